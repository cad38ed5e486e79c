// Apps: the tenant's Apps@Work catalog.
import { h, fill, when } from '../dom.js';
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
    { label: 'Kind', cell: (a) => a.kind || '—' },
    { label: 'Priority', cell: (a) => (a.priority ? 'yes, installed first at onboarding' : 'no') },
    { label: 'Added', cell: (a) => when(a.created_at) },
  ], items, 'No apps in the catalog.'));
}
