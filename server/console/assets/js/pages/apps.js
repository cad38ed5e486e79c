// Apps: the tenant's Apps@Work catalog.
import { h, fill } from '../dom.js';
import { all } from '../api.js';
import { pageHead, errorBox, table } from '../ui.js';

export async function apps(main) {
  const body = h('div', { id: 'apps' });
  fill(main, pageHead('Apps'), body);
  let items;
  try { items = await all('/apps'); } catch (err) { fill(body, errorBox(err, 'Apps')); return; }
  fill(body, table([
    { label: 'Name', cell: (a) => a.name || a.id },
    { label: 'Version', cell: (a) => a.version || '—' },
    { label: 'Identifier', cell: (a) => a.bundle_id || a.package_id || '—' },
    { label: 'Kind', cell: (a) => a.kind || (a.packager ? 'packager' : '') || '—' },
    { label: 'Distribution', cell: (a) => (Array.isArray(a.distributions) ? a.distributions.map((d) => d.text || d.target || '').join(', ') : '') || '—' },
  ], items, 'No apps in the catalog.'));
}
