// Results: every run's outcome, newest first, with its output.
import { h, fill, when } from '../dom.js';
import { api, all, query } from '../api.js';
import { pageHead, errorBox, table, field, pill, showOutput } from '../ui.js';

// resultsTable lists results with a button to each one's output.
export function resultsTable(rows, opts = {}) {
  return table([
    { label: 'Received', cell: (r) => when(r.received_at || r.finished_at) },
    opts.device === false ? null : { label: 'Device', cell: (r) => h('a', { href: `#/devices/${encodeURIComponent(r.device_id)}`, text: r.device_name || r.device_id }) },
    { label: 'Configuration', cell: (r) => h('a', { href: `#/configurations/${encodeURIComponent(r.config_id)}`, text: r.config_name || r.config_id }) },
    { label: 'Status', cell: (r) => pill(r.status) },
    { label: 'Exit', cell: (r) => String(r.exit_code) },
    { label: 'Duration', cell: (r) => `${r.duration_ms} ms` },
    { label: 'Output', cell: (r) => h('button', { type: 'button', class: 'small', text: 'Show output', dataset: { run: r.run_id }, on: { click: () => showOutput(r) } }) },
  ].filter(Boolean), rows.map((r) => ({ ...r, id: r.run_id })), opts.empty || 'No results.');
}

const statuses = ['', 'succeeded', 'failed', 'timed_out', 'rejected', 'error', 'cancelled'];

export async function results(main, _p, q) {
  const inputs = {
    device: h('input', { type: 'text', id: 'res-device', value: q.get('device') || '', placeholder: 'device id' }),
    config: h('input', { type: 'text', id: 'res-config', value: q.get('config') || '', placeholder: 'id or name' }),
    script: h('input', { type: 'text', id: 'res-script', value: q.get('script') || '', placeholder: 'id or name' }),
    status: h('select', { id: 'res-status' }, statuses.map((s) => h('option', { value: s, text: s ? s.replace('_', ' ') : 'Any status', selected: q.get('status') === s }))),
    since: h('input', { type: 'date', id: 'res-since', value: q.get('since') || '' }),
  };
  const form = h('form', { class: 'filters', on: { submit: (e) => {
    e.preventDefault();
    const p = {};
    for (const [k, el] of Object.entries(inputs)) if (el.value.trim()) p[k] = el.value.trim();
    location.hash = `#/results${query(p)}`;
  } } },
  field('Device', inputs.device), field('Configuration', inputs.config), field('Script', inputs.script), field('Status', inputs.status), field('Since', inputs.since),
  h('button', { type: 'submit', text: 'Filter' }));
  const body = h('div', { id: 'results' });
  fill(main, pageHead('Results'), form, body);
  const params = {};
  for (const k of Object.keys(inputs)) if (q.get(k)) params[k] = q.get(k);
  if (params.since && /^\d{4}-\d{2}-\d{2}$/.test(params.since)) params.since = new Date(`${params.since}T00:00:00`).toISOString();
  const rows = [];
  // Results name devices by id; the fleet's list gives their names.
  const names = await all('/devices').then((ds) => Object.fromEntries(ds.map((d) => [d.id, d.facts && d.facts.hostname || d.id]))).catch(() => ({}));
  const more = h('button', { type: 'button', id: 'res-more', text: 'More' });
  const load = async (cursor) => {
    try {
      const page = await api('GET', `/results${query({ ...params, cursor, limit: 100 })}`);
      rows.push(...(page.items || []).map((r) => ({ ...r, device_name: names[r.device_id] })));
      fill(body, resultsTable(rows));
      if (page.next) { more.onclick = () => load(page.next); body.appendChild(more); }
    } catch (err) { fill(body, errorBox(err, 'Results')); }
  };
  await load('');
}
