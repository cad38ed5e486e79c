// Configurations: the list, the "+ Add" chooser, and one configuration's
// page with its status on every device it reaches.
import { h, fill, when } from '../dom.js';
import { api, all, canOperate } from '../api.js';
import { pageHead, errorBox, table, pill, dl, confirm, toast, field } from '../ui.js';
import { listen, debounce } from '../events.js';

export const kindNames = { mobileatwork: 'Mobile@Work for macOS', script: 'Mobile@Work Script for macOS' };

// distributionText says in words whom a distribution reaches.
export function distributionText(d) {
  if (!d) return '—';
  if (d.level === 'all') return 'Everyone';
  if (d.level === 'none') return 'No one';
  return `Custom: ${(d.targets || []).map((t) => t.text).join(', ')}`;
}

export async function configList(main, _params, q) {
  const kind = h('select', { id: 'cfg-kind' },
    h('option', { value: '', text: 'All kinds' }),
    Object.entries(kindNames).map(([k, n]) => h('option', { value: k, text: n, selected: q.get('kind') === k })));
  kind.addEventListener('change', () => { location.hash = `#/configurations${kind.value ? `?kind=${kind.value}` : ''}`; });
  const body = h('div', {});
  fill(main,
    pageHead('Configurations', canOperate() ? h('a', { class: 'button', href: '#/configurations/new', id: 'cfg-add', text: '+ Add' }) : null),
    h('div', { class: 'filters' }, field('Kind', kind)), body);
  let items;
  try { items = await all('/configurations', { kind: q.get('kind') || '' }); } catch (err) { fill(body, errorBox(err, 'Configurations')); return; }
  fill(body, table([
    { label: 'Name', cell: (c) => h('a', { href: `#/configurations/${encodeURIComponent(c.id)}`, text: c.name }) },
    { label: 'Kind', cell: (c) => kindNames[c.kind] || c.kind },
    { label: 'Priority', cell: (c) => (c.kind === 'mobileatwork' ? String(c.priority || '—') : '—') },
    { label: 'Distribution', cell: (c) => distributionText(c.distribution) },
    { label: 'Devices reached', cell: (c) => String(c.devices_reached ?? '—') },
    { label: 'Version', cell: (c) => String(c.version) },
  ], items, 'No configurations yet.'));
}

// configChooser is the portal's "+ Add": search, then pick the kind.
export function configChooser(main) {
  const search = h('input', { type: 'search', id: 'cfg-search', placeholder: 'Search configuration types', autocomplete: 'off' });
  const list = h('ul', { class: 'choices', id: 'cfg-choices' });
  const kinds = [
    ['mobileatwork', 'The agent’s settings: script limits, check-in frequency, user onboarding.'],
    ['script', 'Runs a script of Admin › All scripts, once at deployment, daily or weekly.'],
  ];
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const shown = kinds.filter(([k, d]) => !q || `${kindNames[k]} ${d}`.toLowerCase().includes(q));
    fill(list, shown.length ? shown.map(([k, d]) => h('li', {},
      h('a', { href: `#/configurations/new/${k}`, class: 'choice', dataset: { kind: k } }, h('strong', { text: kindNames[k] }), h('span', { text: d }))))
      : h('li', { class: 'empty', text: 'No configuration type matches.' }));
  };
  search.addEventListener('input', draw);
  search.addEventListener('keydown', (e) => {
    const first = list.querySelector('a');
    if (e.key === 'Enter' && first) { e.preventDefault(); first.click(); }
  });
  draw();
  fill(main, pageHead('Add a configuration'), field('Search', search, 'Type “work” to find the Mobile@Work configurations.'), list);
}

export async function configDetail(main, [ref]) {
  const body = h('div', { id: 'cfg-detail' });
  const actions = h('div', { class: 'actions' });
  const title = h('h1', { id: 'page-title', tabIndex: -1, text: 'Configuration' });
  fill(main, h('div', { class: 'page-head' }, title, actions), body);
  let c;
  const draw = async () => {
    try { c = await api('GET', `/configurations/${encodeURIComponent(ref)}`); } catch (err) { fill(body, errorBox(err, 'Configuration')); return false; }
    title.textContent = c.name;
    const sm = c.summary || {};
    fill(body,
      h('p', { class: 'sub', text: `${kindNames[c.kind] || c.kind} · version ${c.version}${c.kind === 'mobileatwork' && c.priority ? ` · priority ${c.priority}` : ''}` }),
      c.description ? h('p', { class: 'desc', text: c.description }) : null,
      h('section', { class: 'panel' }, h('h2', { text: 'Distribution' }), h('p', { id: 'cfg-distribution', text: distributionText(c.distribution) }),
        h('ul', { class: 'summary', id: 'cfg-summary' },
          [['Reached', sm.reached], ['Succeeded', sm.succeeded], ['Failed', sm.failed], ['Pending', sm.pending], ['Superseded', sm.superseded], ['Cancelled', sm.cancelled]]
            .map(([k, v]) => h('li', {}, h('strong', { text: String(v || 0) }), ` ${k.toLowerCase()}`)))),
      c.kind === 'script' && c.script ? h('section', { class: 'panel' }, h('h2', { text: 'Script' }), dl([
        ['Script', h('a', { href: `#/scripts/${encodeURIComponent(c.script.script_id)}`, text: c.script.script_name || c.script.script_id })],
        ['Inputs', Object.entries(c.script.inputs || {}).map(([k, v]) => `${k}=${v}`).join(', ') || 'the script’s defaults'],
        ['Runs', c.script.when], ['Runs as', c.script.run_as || 'root'], ['Retries', String(c.script.retries || 0)],
      ])) : null,
      c.settings ? h('section', { class: 'panel' }, h('h2', { text: 'Settings' }), dl(Object.entries(c.settings).sort().map(([k, v]) => [k, v === '' ? '—' : v]))) : null,
      h('section', {}, h('h2', { text: 'Devices' }), table([
        { label: 'Device', cell: (r) => h('a', { href: `#/devices/${encodeURIComponent(r.device.id)}`, text: r.device.name || r.device.serial_number || r.device.id }) },
        { label: 'Serial', cell: (r) => r.device.serial_number || '—' },
        { label: 'User', cell: (r) => r.device.user || '—' },
        { label: 'Status', cell: (r) => pill(r.status) },
        { label: 'Detail', cell: (r) => r.detail || '' },
        { label: 'Version', cell: (r) => String(r.version) },
        { label: 'Updated', cell: (r) => when(r.updated_at) },
      ], (c.devices || []).map((r) => ({ ...r, id: r.device.id })), 'This configuration reaches no device.')));
    return true;
  };
  if (!(await draw())) return undefined;
  if (canOperate()) {
    const enc = encodeURIComponent(ref);
    fill(actions,
      h('a', { class: 'button', href: `#/configurations/${enc}/edit`, id: 'cfg-edit', text: 'Edit' }),
      h('a', { class: 'button', href: `#/configurations/${enc}/distribution`, id: 'cfg-distribute', text: 'Distribute' }),
      c.kind === 'mobileatwork' ? priorityForm(c, enc, body, draw) : null,
      h('button', { type: 'button', id: 'cfg-withdraw', text: 'Withdraw', on: { click: async () => {
        if (!(await confirm(`Withdraw ${c.name}?`, 'It will reach no device; devices remove it at their next check-in.', 'Withdraw'))) return;
        try { await api('POST', `/configurations/${enc}/distribution`, { to: ['none'] }); toast('Withdrawn from every device.'); draw(); } catch (err) { body.prepend(errorBox(err, 'Withdraw')); }
      } } }),
      h('button', { type: 'button', class: 'danger', id: 'cfg-delete', text: 'Delete', on: { click: async () => {
        if (!(await confirm(`Delete ${c.name}?`, 'Devices remove it at their next check-in. This cannot be undone.', 'Delete'))) return;
        try { await api('DELETE', `/configurations/${enc}`); toast(`${c.name} deleted.`); location.hash = '#/configurations'; } catch (err) { body.prepend(errorBox(err, 'Delete')); }
      } } }));
  }
  return listen(debounce(draw, 300));
}


// priorityForm ranks a Mobile@Work configuration: where several reach a
// device, the best (1) is in effect.
function priorityForm(c, enc, body, redraw) {
  const n = h('input', { type: 'number', id: 'cfg-priority', min: 1, step: 1, value: c.priority || 1, class: 'narrow' });
  return h('form', { class: 'inline', on: { submit: async (e) => {
    e.preventDefault();
    try {
      await api('POST', `/configurations/${enc}/priority`, { priority: Number(n.value) });
      toast(`Priority ${n.value}.`);
      redraw();
    } catch (err) { body.prepend(errorBox(err, 'Priority')); }
  } } }, h('label', { htmlFor: n.id, text: 'Priority' }), n, h('button', { type: 'submit', id: 'cfg-priority-set', text: 'Set' }));
}
