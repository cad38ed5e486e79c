// Devices: the fleet, and one device's page: facts, configurations with
// their status there, apps, onboarding, results and the agent's log.
import { h, fill, when, ago } from '../dom.js';
import { api, all, query, canOperate } from '../api.js';
import { pageHead, errorBox, table, field, pill, dl, loading, toast } from '../ui.js';
import { resultsTable } from './results.js';
import { listen, debounce } from '../events.js';

export async function deviceList(main, _p, q) {
  const search = h('input', { type: 'search', id: 'dev-search', value: q.get('search') || '', placeholder: 'name, serial, user' });
  const group = h('select', { id: 'dev-group' }, h('option', { value: '', text: 'Any group' }));
  const user = h('select', { id: 'dev-user' }, h('option', { value: '', text: 'Any user' }));
  const form = h('form', { class: 'filters', on: { submit: (e) => {
    e.preventDefault();
    location.hash = `#/devices${query({ search: search.value.trim(), group: group.value, user: user.value })}`;
  } } }, field('Search', search), field('Device group', group), field('User', user), h('button', { type: 'submit', text: 'Search' }));
  const body = h('div', { id: 'devices' });
  fill(main, pageHead('Devices'), form, body);
  // The filter lists fill in when their routes answer; a missing one
  // leaves its filter at "any".
  all('/device-groups').then((gs) => gs.forEach((g) => { const n = typeof g === 'string' ? g : g.name; group.appendChild(h('option', { value: n, text: n, selected: q.get('group') === n })); })).catch(() => {});
  all('/users').then((us) => us.forEach((u) => user.appendChild(h('option', { value: u.email, text: u.name ? `${u.name} (${u.email})` : u.email, selected: q.get('user') === u.email })))).catch(() => {});
  const draw = async () => {
    let items;
    try { items = await all('/devices', { search: q.get('search') || '', group: q.get('group') || '', user: q.get('user') || '' }); } catch (err) { fill(body, errorBox(err, 'Devices')); return; }
    fill(body, table([
      { label: 'Name', cell: (d) => h('a', { href: `#/devices/${encodeURIComponent(d.id)}`, text: (d.facts && d.facts.hostname) || d.id }) },
      { label: 'Serial', cell: (d) => (d.facts && d.facts.serial_number) || '—' },
      { label: 'User', cell: (d) => d.user || '—' },
      { label: 'Groups', cell: (d) => (d.device_groups || []).join(', ') },
      { label: 'Agent', cell: (d) => d.agent_version || '—' },
      { label: 'Last check-in', cell: (d) => h('span', { title: when(d.last_checkin), text: d.left ? 'left' : ago(d.last_checkin) }) },
    ], items, 'No device matches.'));
  };
  await draw();
  return listen(debounce((type) => { if (type === 'checkin') draw(); }, 500));
}

export async function deviceDetail(main, [devId]) {
  fill(main, loading());
  const enc = encodeURIComponent(devId);
  const body = h('div', { id: 'device' });
  const title = h('h1', { id: 'page-title', tabIndex: -1, text: 'Device' });
  const live = h('p', { class: 'live-note', id: 'dev-updated', attrs: { 'aria-live': 'polite' } });
  const appsBox = h('section', { id: 'dev-apps' }, h('h2', { text: 'Apps installed' }), loading());
  const runBox = h('section', { id: 'dev-run', class: 'panel' });
  // The onboarding's stages and log, on demand: one node kept across
  // redraws, like the run form.
  const onboardingBox = h('div', { id: 'dev-onboarding' }, h('button', { type: 'button', class: 'small', text: 'Show stages and log', on: { click: async () => {
    try {
      const o = await api('GET', `/devices/${enc}/onboarding`);
      fill(onboardingBox,
        h('ol', { class: 'stages' }, (o.stages || []).map((st) => h('li', {}, h('strong', { text: st.name }), ' ', pill(st.status),
          h('ul', {}, (st.items || []).map((it) => h('li', {}, `${it.name} (${it.kind}) `, pill(it.status), it.error ? ` ${it.error}` : '')))))),
        (o.log || []).length ? h('pre', { class: 'out log', tabIndex: 0 }, o.log.map((l) => h('span', { text: `${when(l.at)}  ${l.message}\n` }))) : null);
    } catch (err) { fill(onboardingBox, errorBox(err, 'Onboarding')); }
  } } }));
  let waitingFor = '';
  fill(main, h('div', { class: 'page-head' }, title), live, body, appsBox);
  if (canOperate()) {
    // Run now: the device is woken to check in, and its result arrives
    // on this page over the event stream.
    const pickScript = h('select', { id: 'run-script', required: true }, h('option', { value: '', text: 'Select a script' }));
    const status = h('p', { id: 'run-status', attrs: { 'aria-live': 'polite' } });
    all('/scripts').then((xs) => xs.forEach((x) => pickScript.appendChild(h('option', { value: x.id, text: x.name })))).catch(() => {});
    fill(runBox, h('h2', { text: 'Run a script now' }), h('form', { class: 'filters', on: { submit: async (e) => {
      e.preventDefault();
      try {
        const r = await api('POST', '/runs', { script: pickScript.value, devices: [devId] });
        waitingFor = (r.configuration || r.config).id;
        status.dataset.state = 'waiting';
        status.textContent = 'Asked the device to run it now; waiting for its result…';
        toast('Run started.');
      } catch (err) { fill(status, errorBox(err, 'Run now')); }
    } } }, field('Script', pickScript), h('button', { type: 'submit', id: 'run-now', text: 'Run now' })), status);
  }
  const onResult = (data) => {
    const status = document.getElementById('run-status');
    if (!status || !waitingFor || data.config_id !== waitingFor) return;
    status.dataset.state = data.status;
    fill(status, 'Result: ', pill(data.status), ' — see Recent results below.');
    waitingFor = '';
  };
  const draw = async () => {
    let d;
    try { d = await api('GET', `/devices/${enc}`); } catch (err) { fill(body, errorBox(err, 'Device')); return; }
    const f = d.facts || {};
    title.textContent = f.hostname || d.id;
    live.textContent = `Last check-in ${ago(d.last_checkin)} (${when(d.last_checkin)})`;
    const ob = d.onboarding;
    const names = Object.fromEntries((d.configurations || []).map((c) => [c.id, c.name]));
    fill(body,
      d.scripts_stopped ? h('p', { class: 'notice', text: `Scripts stopped: ${d.scripts_stopped}` }) : null,
      h('div', { class: 'two' },
        h('section', { class: 'panel' }, h('h2', { text: 'Device' }), dl([
          ['Serial number', f.serial_number], ['Model', f.model], ['macOS', [f.os_version, f.os_build].filter(Boolean).join(' ')],
          ['Agent', d.agent_version], ['User', d.user_name ? `${d.user_name} (${d.user})` : d.user], ['Console user', f.console_user],
          ['Device groups', (d.device_groups || []).join(', ')], ['User groups', (d.user_groups || []).join(', ')],
          ['Enrolled', when(d.enrolled_at)], ['Last check-in', when(d.last_checkin)], ['Time zone', f.time_zone], ['Device id', d.id],
        ])),
        h('section', { class: 'panel' }, h('h2', { text: 'Mobile@Work configuration in effect' }),
          d.mobileatwork_configuration
            ? h('p', {}, h('a', { href: `#/configurations/${encodeURIComponent(d.mobileatwork_configuration.id)}`, text: d.mobileatwork_configuration.name }), ` · version ${d.mobileatwork_configuration.version}`)
            : h('p', { class: 'notice', text: 'None: no Mobile@Work configuration reaches this device, so it runs no script.' }),
          d.settings ? dl(Object.entries(d.settings).sort().map(([k, v]) => [k, v === '' ? '—' : v])) : null,
          h('h2', { text: 'Onboarding' }),
          ob ? [dl([['State', pill(ob.state)], ob.outcome ? ['Outcome', pill(ob.outcome)] : null, ['Stages', String(ob.stages)], ['Reported', when(ob.received_at)]]), onboardingBox]
            : h('p', { class: 'empty', text: 'No onboarding on this device.' }))),
      h('section', { id: 'dev-configs' }, h('h2', { text: 'Configurations' }), table([
        { label: 'Name', cell: (c) => h('a', { href: `#/configurations/${encodeURIComponent(c.id)}`, text: c.name }) },
        { label: 'Kind', cell: (c) => c.kind },
        { label: 'Status', cell: (c) => pill(c.status) },
        { label: 'Detail', cell: (c) => c.detail || '' },
        { label: 'Version', cell: (c) => String(c.version) },
        { label: 'Next run', cell: (c) => when(c.next_run) },
      ], d.configurations || [], 'No configuration reaches this device.')),
      // The run form is one node moved into each redraw, so what is
      // chosen in it survives the live updates.
      canOperate() ? runBox : null,
      h('section', { id: 'dev-results' }, h('h2', { text: 'Recent results' }),
        resultsTable((d.recent_results || []).map((r) => ({ ...r, config_name: r.config_name || names[r.config_id] })), { device: false, empty: 'No result from this device yet.' })),
      (d.packager_apps || []).length ? h('section', {}, h('h2', { text: 'Packager apps' }), table([
        { label: 'App', cell: (a) => a.name }, { label: 'Installed', cell: (a) => (a.installed ? `yes, ${a.installed_version}` : 'no') }, { label: 'Wanted', cell: (a) => a.version || 'any' },
      ], d.packager_apps)) : null,
      h('section', { id: 'dev-log' }, h('h2', { text: 'Agent log' }),
        (d.recent_log || []).length
          ? h('pre', { class: 'out log', tabIndex: 0 }, d.recent_log.map((l) => h('span', { class: `lvl-${l.level}`, text: `${when(l.time)}  ${l.level.toUpperCase()}  ${l.message}\n` })))
          : h('p', { class: 'empty', text: 'No warning or error from the agent.' })));
  };
  const drawApps = async () => {
    try {
      const inv = await api('GET', `/devices/${enc}/inventory`);
      const apps = (inv.apps || []).slice().sort((a, b) => a.name.localeCompare(b.name));
      fill(appsBox, h('h2', { text: `Apps installed (${apps.length})` }), h('p', { class: 'sub', text: `Inventory collected ${when(inv.collected_at)}` }),
        table([{ label: 'Name', cell: (a) => a.name }, { label: 'Version', cell: (a) => a.version }, { label: 'Bundle id', cell: (a) => a.bundle_id }, { label: 'Path', cell: (a) => a.path }], apps, 'No app reported.'));
    } catch (err) {
      fill(appsBox, h('h2', { text: 'Apps installed' }), err.code === 'no_inventory'
        ? h('p', { class: 'empty', text: 'The device has not sent its inventory yet; it does at its next check-in.' }) : errorBox(err, 'Inventory'));
    }
  };
  await Promise.all([draw(), drawApps()]);
  const refresh = debounce((type) => { draw(); if (type === 'checkin') drawApps(); }, 300);
  return listen((type, data) => {
    if (data.device_id && data.device_id !== devId) return;
    if (type === 'result') onResult(data);
    if (type !== 'ready') refresh(type);
  });
}
