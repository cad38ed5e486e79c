// Admin › All scripts: the repository of scripts that script
// configurations run; each edit of the body is a new version.
import { h, fill, when, b64, unb64 } from '../dom.js';
import { api, all, canOperate } from '../api.js';
import { pageHead, errorBox, table, field, dl, confirm, toast, loading } from '../ui.js';
import { lineDiff } from '../diff.js';

export async function scriptList(main) {
  const body = h('div', {});
  fill(main, pageHead('All scripts', canOperate() ? h('a', { class: 'button', href: '#/scripts/new', id: 'script-add', text: '+ Upload a script' }) : null), body);
  let items;
  try { items = await all('/scripts'); } catch (err) { fill(body, errorBox(err, 'Scripts')); return; }
  fill(body, table([
    { label: 'Name', cell: (s) => h('a', { href: `#/scripts/${encodeURIComponent(s.id)}`, text: s.name }) },
    { label: 'Description', cell: (s) => s.description || '' },
    { label: 'Version', cell: (s) => String(s.version) },
    { label: 'Size', cell: (s) => `${s.size} B` },
    { label: 'Inputs', cell: (s) => (s.inputs || []).map((i) => i.name).join(', ') },
    { label: 'Updated', cell: (s) => when(s.updated_at) },
  ], items, 'No scripts yet.'));
}

// bodyInput is a file input that fills a textarea, so a script comes from
// a file or is typed.
function bodyInput(text = '') {
  const area = h('textarea', { id: 'script-body', rows: 14, class: 'code', spellcheck: false, value: text, required: true });
  const file = h('input', { type: 'file', id: 'script-file', accept: '.sh,.zsh,.bash,.py,.pl,.rb,text/*' });
  file.addEventListener('change', async () => { if (file.files[0]) area.value = await file.files[0].text(); });
  return { area, nodes: [field('From a file', file, 'Its text goes in the box below, where it can be checked before upload.'), field('Script', area)] };
}

export function scriptNew(main) {
  const name = h('input', { type: 'text', id: 'script-name', required: true, maxLength: 128 });
  const desc = h('input', { type: 'text', id: 'script-description' });
  const inputs = h('textarea', { id: 'script-inputs', rows: 3, class: 'code', placeholder: 'Who:who=world' });
  const b = bodyInput('#!/bin/sh\n');
  const msg = h('div', { id: 'script-message' });
  const form = h('form', { id: 'script-form', class: 'wide', on: { submit: async (e) => {
    e.preventDefault();
    fill(msg);
    const req = { name: name.value.trim(), description: desc.value.trim(), body: b64(b.area.value) };
    const decl = inputs.value.split('\n').map((l) => l.trim()).filter(Boolean);
    if (decl.length) req.inputs = decl;
    try {
      const s = await api('POST', '/scripts', req);
      toast(`${s.name} uploaded.`);
      location.hash = `#/scripts/${encodeURIComponent(s.id)}`;
    } catch (err) { fill(msg, errorBox(err)); }
  } } },
  field('Name', name), field('Description', desc), b.nodes,
  field('Inputs', inputs, 'One per line, LABEL:NAME=DEFAULT; the script reads them as $MAW_INPUT_NAME and as arguments.'),
  h('div', { class: 'buttons' }, h('a', { class: 'button quiet', href: '#/scripts', text: 'Cancel' }), h('button', { type: 'submit', id: 'script-save', text: 'Upload' })));
  fill(main, pageHead('Upload a script'), canOperate() ? null : h('p', { class: 'notice', text: 'Your role may only read: the server will refuse changes.' }), msg, form);
}

// versionBody is the text of one version of a script.
async function versionBody(ref, version) {
  const v = await api('GET', `/scripts/${encodeURIComponent(ref)}/versions/${version}`);
  const raw = v.body ?? v.content ?? '';
  return typeof raw === 'string' ? unb64(raw) : '';
}

export async function scriptDetail(main, [ref]) {
  fill(main, loading());
  let s;
  try { s = await api('GET', `/scripts/${encodeURIComponent(ref)}`); } catch (err) { fill(main, errorBox(err, 'Script')); return; }
  const sc = s.script || s;
  const versions = (s.versions || []).map((v) => (typeof v === 'number' ? { version: v } : v)).sort((a, b) => a.version - b.version);
  if (!versions.length) versions.push({ version: sc.version });
  const bodyPre = h('pre', { class: 'code', id: 'script-text', tabIndex: 0 });
  const msg = h('div', { id: 'script-message' });
  const enc = encodeURIComponent(sc.id);
  const edit = async () => {
    const b = bodyInput(bodyPre.textContent);
    const desc = h('input', { type: 'text', id: 'script-description', value: sc.description || '' });
    const f = h('form', { id: 'script-edit', class: 'wide', on: { submit: async (e) => {
      e.preventDefault();
      const patch = { body: b64(b.area.value) };
      if (desc.value.trim() !== (sc.description || '')) patch.description = desc.value.trim();
      try {
        const u = await api('PATCH', `/scripts/${enc}`, patch);
        toast(`Version ${(u.script || u).version} saved.`);
        scriptDetail(main, [ref]);
      } catch (err) { fill(msg, errorBox(err)); }
    } } }, field('Description', desc), b.nodes,
    h('div', { class: 'buttons' }, h('button', { type: 'button', class: 'quiet', text: 'Cancel', on: { click: () => scriptDetail(main, [ref]) } }),
      h('button', { type: 'submit', id: 'script-save', text: 'Save as a new version' })));
    fill(editBox, f);
    b.area.focus();
  };
  const editBox = h('div', {});
  const a = h('select', { id: 'diff-a' }, versions.map((v, i) => h('option', { value: v.version, text: `Version ${v.version}`, selected: i === versions.length - 2 })));
  const b = h('select', { id: 'diff-b' }, versions.map((v, i) => h('option', { value: v.version, text: `Version ${v.version}`, selected: i === versions.length - 1 })));
  const diffOut = h('div', { id: 'diff-out' });
  const compare = async () => {
    try {
      const [ta, tb] = await Promise.all([versionBody(sc.id, a.value), versionBody(sc.id, b.value)]);
      const d = lineDiff(ta, tb);
      if (!d) { fill(diffOut, h('p', { class: 'notice', text: 'These versions are too long to compare here.' })); return; }
      const adds = d.filter((l) => l.op === '+').length;
      const dels = d.filter((l) => l.op === '-').length;
      fill(diffOut, h('p', { class: 'sub', id: 'diff-summary', text: `${adds} line${adds === 1 ? '' : 's'} added, ${dels} removed` }),
        h('pre', { class: 'code diff', tabIndex: 0 }, d.map((l) => h('span', { class: l.op === '+' ? 'add' : l.op === '-' ? 'del' : 'same', text: `${l.op} ${l.text}\n` }))));
    } catch (err) { fill(diffOut, errorBox(err, 'Diff')); }
  };
  fill(main,
    pageHead(sc.name, canOperate() ? [
      h('button', { type: 'button', id: 'script-edit-open', text: 'Edit', on: { click: edit } }),
      h('button', { type: 'button', class: 'danger', id: 'script-delete', text: 'Delete', on: { click: async () => {
        if (!(await confirm(`Delete ${sc.name}?`, 'A script that a configuration uses cannot be deleted; the server will say which.', 'Delete'))) return;
        try { await api('DELETE', `/scripts/${enc}`); toast(`${sc.name} deleted.`); location.hash = '#/scripts'; } catch (err) { fill(msg, errorBox(err, 'Delete')); }
      } } })] : null),
    msg,
    dl([['Description', sc.description || ''], ['Version', String(sc.version)], ['SHA-256', sc.sha256], ['Size', `${sc.size} B`],
      ['Inputs', (sc.inputs || []).map((i) => `${i.label || i.name} (${i.name}, default “${i.default}”)`).join('; ') || 'none'],
      ['Used by', (sc.used_by || s.used_by || []).length ? h('span', {}, (sc.used_by || s.used_by).map((c, i) => [i ? ', ' : '', h('a', { href: `#/configurations/${encodeURIComponent(c.id)}`, text: c.name })])) : 'no configuration'],
      ['Updated', when(sc.updated_at)]]),
    editBox,
    h('section', {}, h('h2', { text: `Version ${sc.version}` }), bodyPre),
    versions.length > 1 ? h('section', { class: 'panel' }, h('h2', { text: 'Compare versions' }),
      h('div', { class: 'filters' }, field('From', a), field('To', b), h('button', { type: 'button', id: 'diff-run', text: 'Compare', on: { click: compare } })), diffOut) : null);
  try { bodyPre.textContent = await versionBody(sc.id, sc.version); } catch (err) { bodyPre.replaceWith(errorBox(err, 'Script text')); }
}

