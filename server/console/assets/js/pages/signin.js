// Sign in: the server's refusal (wrong password, locked account) is shown
// as it says it.
import { h, fill } from '../dom.js';
import { api } from '../api.js';
import { field, errorBox } from '../ui.js';

export function signIn(main, back, done, note) {
  const name = h('input', { type: 'text', name: 'name', id: 'signin-name', autocomplete: 'username', required: true, autofocus: true });
  const pass = h('input', { type: 'password', name: 'password', id: 'signin-password', autocomplete: 'current-password', required: true });
  const msg = h('div', { id: 'signin-message' }, note ? h('p', { class: 'notice', attrs: { role: 'status' }, text: note }) : null);
  const submit = h('button', { type: 'submit', id: 'signin-submit', text: 'Sign in' });
  const form = h('form', { class: 'signin', on: { submit: async (e) => {
    e.preventDefault();
    submit.disabled = true;
    fill(msg);
    try {
      const s = await api('POST', '/session', { name: name.value.trim(), password: pass.value });
      pass.value = '';
      done(s, back);
    } catch (err) {
      fill(msg, errorBox(err));
      pass.select();
    } finally { submit.disabled = false; }
  } } },
  h('h1', { id: 'page-title', tabIndex: -1, text: 'Sign in to Mobile@Work' }),
  msg, field('Account name', name), field('Password', pass), h('div', { class: 'buttons' }, submit));
  fill(main, h('div', { class: 'signin-wrap' }, form));
  document.title = 'Sign in · Mobile@Work';
  name.focus();
}
