// Dashboard: the fleet at a glance, refreshed as devices check in and
// results arrive.
import { h, fill, when } from '../dom.js';
import { api } from '../api.js';
import { pageHead, errorBox, pill } from '../ui.js';
import { listen, debounce } from '../events.js';

export async function dashboard(main) {
  const body = h('div', { id: 'dashboard' });
  const live = h('p', { class: 'live-note', id: 'dash-updated', attrs: { 'aria-live': 'polite' } });
  fill(main, pageHead('Dashboard'), live, body);
  const draw = async () => {
    let d;
    try { d = await api('GET', '/dashboard'); } catch (err) { fill(body, errorBox(err, 'Dashboard')); return; }
    const ages = d.checkin_ages || [];
    const maxAge = Math.max(1, ...ages.map((a) => a.count));
    const statuses = Object.entries(d.results_24h || {}).sort((a, b) => b[1] - a[1]);
    const total = statuses.reduce((n, [, c]) => n + c, 0);
    fill(body,
      h('section', { class: 'cards', attrs: { 'aria-label': 'Totals' } },
        card('Devices', d.devices, 'dash-devices', h('a', { href: '#/devices', text: 'All devices' })),
        card('Configurations', d.configurations, 'dash-configs', h('a', { href: '#/configurations', text: 'All configurations' })),
        card('Results, last 24 h', total, 'dash-results', h('a', { href: '#/results', text: 'All results' })),
        d.left ? card('Left (agent removed)', d.left, 'dash-left') : null),
      h('div', { class: 'two' },
        h('section', { class: 'panel', attrs: { 'aria-labelledby': 'h-ages' } },
          h('h2', { id: 'h-ages', text: 'Last check-in' }),
          h('ul', { class: 'bars', id: 'dash-ages' }, ages.map((a) => h('li', { dataset: { label: a.label, count: String(a.count) } },
            h('span', { class: 'bar-label', text: a.label }),
            h('span', { class: 'bar', attrs: { 'aria-hidden': 'true' } }, h('span', { class: a.label === 'never' || a.label === 'over 7 days' ? 'fill warn' : 'fill', css: { width: `${(100 * a.count) / maxAge}%` } })),
            h('span', { class: 'bar-count', text: String(a.count) }))))),
        h('section', { class: 'panel', attrs: { 'aria-labelledby': 'h-res' } },
          h('h2', { id: 'h-res', text: 'Results of the last 24 hours' }),
          statuses.length
            ? h('ul', { class: 'statuses', id: 'dash-statuses' }, statuses.map(([s, c]) => h('li', { dataset: { status: s, count: String(c) } },
              h('a', { href: `#/results?status=${encodeURIComponent(s)}` }, pill(s)), h('span', { class: 'bar-count', text: String(c) }))))
            : h('p', { class: 'empty', text: 'No results in the last 24 hours.' }))));
    live.textContent = `Updated ${when(d.at)}`;
  };
  await draw();
  return listen(debounce(draw, 300));
}

// card is one total.
function card(label, n, idName, link) {
  return h('div', { class: 'card' }, h('p', { class: 'big', id: idName, text: String(n) }), h('p', { class: 'label', text: label }), link || null);
}
