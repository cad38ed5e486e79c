// The console's building blocks: headings, tables, fields, dialogs.
import { h, fill, id, when } from './dom.js';

// pageHead is a page's heading (focused on arrival) and its actions.
export function pageHead(title, ...actions) {
  return h('div', { class: 'page-head' },
    h('h1', { id: 'page-title', tabIndex: -1, text: title }),
    h('div', { class: 'actions' }, actions));
}

// errorBox says why something failed, in the server's words.
export function errorBox(err, what = '') {
  if (err && err.noRoute) {
    return h('p', { class: 'notice', attrs: { role: 'status' }, dataset: { code: 'no_route' } },
      `${what ? `${what}: ` : ''}this server does not offer this part of the API yet.`);
  }
  const msg = err && err.message ? err.message : String(err);
  return h('p', { class: 'error', attrs: { role: 'alert' }, dataset: { code: err && err.code || '' } }, what ? `${what}: ${msg}` : msg);
}

export function loading() { return h('p', { class: 'loading', text: 'Loading…' }); }

// table lays out rows under columns [{label, cell(row)}]; empty says what
// to show when there are none.
export function table(columns, rows, empty = 'Nothing here yet.', caption = '') {
  if (!rows.length) return h('p', { class: 'empty', text: empty });
  return h('div', { class: 'table-wrap' }, h('table', {},
    caption ? h('caption', { text: caption }) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { attrs: { scope: 'col' }, text: c.label })))),
    h('tbody', {}, rows.map((r) => h('tr', { dataset: r && r.id ? { id: r.id } : {} }, columns.map((c) => h('td', {}, c.cell(r))))))));
}

// pill shows a status by name and colour.
export function pill(status) {
  return h('span', { class: `pill s-${(status || 'none').replace(/[^a-z_]/g, '')}`, text: (status || '—').replace(/_/g, ' ') });
}

// field is a labelled input; help is said under it and tied to it.
export function field(label, input, help = '') {
  if (!input.id) input.id = id('in');
  const kids = [h('label', { htmlFor: input.id, text: label }), input];
  if (help) {
    const hid = `${input.id}-help`;
    input.setAttribute('aria-describedby', hid);
    kids.push(h('small', { id: hid, class: 'help', text: help }));
  }
  return h('div', { class: input.type === 'checkbox' ? 'field check' : 'field' }, input.type === 'checkbox' ? [input, ...kids.filter((k) => k !== input)] : kids);
}

// dl lists term/value pairs; values may be nodes.
export function dl(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(Boolean).map(([k, v]) => [h('dt', { text: k }), h('dd', {}, v === '' || v === undefined || v === null ? '—' : v)]));
}

let toastTimer = 0;
export function toast(msg) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  t.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove('show'), 4000);
}

// dialog shows a modal built by body(close); Escape and Cancel close it,
// and focus goes back where it was. It resolves to what close was given.
export function dialog(title, body) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const titleId = id('dlg');
    const d = h('dialog', { class: 'dialog', attrs: { 'aria-labelledby': titleId } });
    let result;
    const close = (v) => { result = v; d.close(); };
    d.addEventListener('close', () => { d.remove(); if (opener && opener.focus) opener.focus(); resolve(result); });
    fill(d, h('h2', { id: titleId, text: title }), body(close));
    document.body.appendChild(d);
    d.showModal();
  });
}

// confirm asks before something that cannot be undone.
export function confirm(title, text, action = 'Confirm') {
  return dialog(title, (close) => h('form', { method: 'dialog', on: { submit: (e) => { e.preventDefault(); close(true); } } },
    h('p', { text }),
    h('div', { class: 'buttons' },
      h('button', { type: 'button', class: 'quiet', text: 'Cancel', on: { click: () => close(false) } }),
      h('button', { type: 'submit', class: 'danger', id: 'confirm-yes', text: action, autofocus: true }))));
}

// showOutput shows a run's output as text.
export function showOutput(r) {
  return dialog(`Output of run ${r.run_id}`, (close) => h('div', { class: 'output' },
    dl([
      ['Status', pill(r.status)], ['Exit code', String(r.exit_code)], ['Finished', when(r.finished_at)],
      ['Duration', `${r.duration_ms} ms`], r.error ? ['Error', r.error] : null,
      r.truncated ? ['Truncated', `output cut at the size limit (stdout ${r.stdout_bytes} B, stderr ${r.stderr_bytes} B)`] : null,
    ]),
    h('h3', { text: 'Standard output' }), h('pre', { class: 'out', id: 'out-stdout', tabIndex: 0, text: r.stdout || '' }),
    h('h3', { text: 'Standard error' }), h('pre', { class: 'out', id: 'out-stderr', tabIndex: 0, text: r.stderr || '' }),
    h('div', { class: 'buttons' }, h('button', { type: 'button', text: 'Close', autofocus: true, on: { click: () => close() } }))));
}

// checklist is a searchable list of checkboxes over items [{value,
// label, sub}]; selected (a Set of values) is changed in place.
export function checklist(name, items, selected, onChange) {
  const list = h('ul', { class: 'checklist' });
  const search = h('input', { type: 'search', placeholder: `Search ${name.toLowerCase()}`, autocomplete: 'off' });
  const count = h('span', { class: 'count', attrs: { 'aria-live': 'polite' } });
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const shown = items.filter((it) => !q || `${it.label} ${it.sub || ''} ${it.value}`.toLowerCase().includes(q));
    fill(list, shown.map((it) => {
      const cb = h('input', { type: 'checkbox', id: id('cb'), value: it.value, checked: selected.has(it.value),
        on: { change: () => { if (cb.checked) selected.add(it.value); else selected.delete(it.value); onChange(); } } });
      return h('li', {}, cb, h('label', { htmlFor: cb.id }, h('span', { text: it.label }), it.sub ? h('small', { text: ` ${it.sub}` }) : null));
    }));
    if (!items.length) fill(list, h('li', { class: 'empty', text: `No ${name.toLowerCase()} yet.` }));
    else if (!shown.length) fill(list, h('li', { class: 'empty', text: 'No match.' }));
    count.textContent = `${shown.length} of ${items.length}`;
  };
  search.addEventListener('input', draw);
  // Enter in the search box ticks nothing and submits nothing.
  search.addEventListener('keydown', (e) => { if (e.key === 'Enter') e.preventDefault(); });
  draw();
  return h('div', { class: 'checklist-box' }, field(`Search ${name.toLowerCase()}`, search), count, list);
}
