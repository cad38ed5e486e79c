// Sends the form to the daemon, which enrolls this Mac, and shows what
// happened in the page: progress while it works, then the outcome.
'use strict';

(function () {
  const form = document.getElementById('register');
  if (!form) return;
  const progress = document.getElementById('progress');
  const error = document.getElementById('error');
  const done = document.getElementById('done');
  const button = document.getElementById('submit');
  const fields = [...form.querySelectorAll('input:not([type=hidden])')];

  function busy(on) {
    fields.forEach(f => { f.readOnly = on; });
    button.disabled = on;
    form.setAttribute('aria-busy', on ? 'true' : 'false');
  }

  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    error.textContent = '';
    progress.textContent = 'Registering this Mac… This can take a minute.';
    busy(true);
    let answer = { registered: false, message: 'The agent on this Mac did not answer. Try again in a moment.' };
    try {
      const res = await fetch('register', {
        method: 'POST',
        body: new URLSearchParams(new FormData(form)),
        credentials: 'same-origin',
        headers: { 'Accept': 'application/json' },
      });
      answer = await res.json();
    } catch (e) {
      // keep the default answer: the daemon stopped or the page is stale
    }
    progress.textContent = '';
    if (answer.registered) {
      form.hidden = true;
      done.textContent = answer.message;
      done.hidden = false;
      return;
    }
    busy(false);
    error.textContent = answer.message;
    const field = document.getElementById(answer.field || '');
    if (field) field.focus();
  });
})();
