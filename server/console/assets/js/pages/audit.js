// Audit: who changed what, when, from where.
import { h, fill, when } from '../dom.js';
import { api, query } from '../api.js';
import { pageHead, errorBox, table, field } from '../ui.js';

export async function audit(main, _p, q) {
  const actor = h('input', { type: 'text', id: 'audit-actor', value: q.get('actor') || '' });
  const action = h('input', { type: 'text', id: 'audit-action', value: q.get('action') || '', placeholder: 'e.g. config.add' });
  const since = h('input', { type: 'date', id: 'audit-since', value: q.get('since') || '' });
  const form = h('form', { class: 'filters', on: { submit: (e) => {
    e.preventDefault();
    location.hash = `#/audit${query({ actor: actor.value.trim(), action: action.value.trim(), since: since.value })}`;
  } } }, field('Actor', actor), field('Action', action), field('Since', since), h('button', { type: 'submit', text: 'Filter' }));
  const body = h('div', { id: 'audit' });
  fill(main, pageHead('Audit log'), form, body);
  const params = { actor: q.get('actor') || '', action: q.get('action') || '' };
  if (q.get('since')) params.since = new Date(`${q.get('since')}T00:00:00`).toISOString();
  const rows = [];
  const more = h('button', { type: 'button', text: 'More' });
  const load = async (cursor) => {
    try {
      const page = await api('GET', `/audit${query({ ...params, cursor, limit: 200 })}`);
      rows.push(...(page.items || []));
      fill(body, table([
        { label: 'When', cell: (a) => when(a.at) },
        { label: 'Actor', cell: (a) => `${a.actor}${a.actor_kind ? ` (${a.actor_kind})` : ''}` },
        { label: 'Role', cell: (a) => a.role || '' },
        { label: 'Source', cell: (a) => a.source || '' },
        { label: 'Action', cell: (a) => a.action },
        { label: 'Object', cell: (a) => a.object || '' },
        { label: 'Summary', cell: (a) => a.summary || '' },
      ], rows, 'Nothing in the audit log.'));
      if (page.next) { more.onclick = () => load(page.next); body.appendChild(more); }
    } catch (err) { fill(body, errorBox(err, 'Audit log')); }
  };
  await load('');
}
