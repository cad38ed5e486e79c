// Adding or editing a configuration, in the portal's steps: name and
// description with the kind's fields, Next, then the distribution with a
// live count of the devices it reaches, Done.
import { h, fill } from '../dom.js';
import { api, all, canOperate } from '../api.js';
import { errorBox, field, loading, toast, checklist } from '../ui.js';
import { kindNames, distributionText } from './configs.js';
import { debounce } from '../events.js';

// labels are the portal's names of the Mobile@Work keys; sections group
// them as the portal does.
const labels = {
  max_execution_seconds: 'Maximum execution time (seconds)',
  max_response_kb: 'Maximum response size (KB)',
  checkin_interval_minutes: 'Check-in frequency (minutes)',
  kill_grace_seconds: 'Grace before a timed-out script is killed (seconds)',
  'scripts.enabled': 'Devices run scripts',
  'onboarding.enabled': 'Enable user onboarding for macOS devices',
  'onboarding.setup_timeout_seconds': 'User setup timeout (seconds)',
  'onboarding.window_minutes': 'Onboarding starts only within (minutes after registration)',
  'onboarding.landing_url': 'User landing page URL',
  'uninstall.remove_managed_apps': 'Remove managed apps on uninstall',
};
const sections = [
  ['Scripts', ['max_execution_seconds', 'max_response_kb', 'kill_grace_seconds', 'scripts.enabled']],
  ['Check-in', ['checkin_interval_minutes']],
  ['User onboarding', ['onboarding.enabled', 'onboarding.setup_timeout_seconds', 'onboarding.window_minutes', 'onboarding.landing_url']],
  ['Uninstall', ['uninstall.remove_managed_apps']],
];
const days = [['mon', 'Monday'], ['tue', 'Tuesday'], ['wed', 'Wednesday'], ['thu', 'Thursday'], ['fri', 'Friday'], ['sat', 'Saturday'], ['sun', 'Sunday']];

function plural(n, word) { return `${n} ${word}${n === 1 ? '' : 's'}`; }

function steps(n) {
  return h('ol', { class: 'steps', attrs: { 'aria-label': 'Steps' } },
    ['Details and fields', 'Distribution'].map((s, i) => h('li', { class: i + 1 === n ? 'current' : '', attrs: { 'aria-current': i + 1 === n ? 'step' : null }, text: s })));
}

function roleNote() {
  return canOperate() ? null : h('p', { class: 'notice', text: 'Your role may only read: the server will refuse changes.' });
}

export async function configForm(main, { kind, ref }) {
  fill(main, loading());
  let cur = null;
  if (ref) {
    try { cur = await api('GET', `/configurations/${encodeURIComponent(ref)}`); } catch (err) { fill(main, errorBox(err, 'Configuration')); return; }
    kind = cur.kind;
  }
  const title = ref ? `Edit ${cur.name}` : `Add ${kindNames[kind]}`;
  const name = h('input', { type: 'text', id: 'cfg-name', name: 'name', required: true, maxLength: 128, value: cur ? cur.name : '' });
  const desc = h('textarea', { id: 'cfg-description', name: 'description', rows: 2, value: cur ? cur.description : '' });
  const msg = h('div', { id: 'cfg-message' });
  const fields = kind === 'script' ? await scriptFields(cur) : await settingsFields(cur);
  const next = h('button', { type: 'submit', id: 'cfg-next', text: 'Next' });
  const form = h('form', { id: 'cfg-form', class: 'wide', on: { submit: async (e) => {
    e.preventDefault();
    fill(msg);
    next.disabled = true;
    try {
      let c;
      const extra = fields.body();
      if (ref) {
        const patch = { ...extra };
        if (name.value.trim() !== cur.name) patch.name = name.value.trim();
        if (desc.value.trim() !== cur.description) patch.description = desc.value.trim();
        c = await api('PATCH', `/configurations/${encodeURIComponent(ref)}`, patch);
      } else {
        c = await api('POST', '/configurations', { kind, name: name.value.trim(), description: desc.value.trim(), ...extra });
      }
      location.hash = `#/configurations/${encodeURIComponent(c.id || ref)}/distribution`;
    } catch (err) {
      const box = errorBox(err);
      box.tabIndex = -1;
      fill(msg, box);
      box.focus();
    } finally { next.disabled = false; }
  } } },
  field('Name', name), field('Description', desc), fields.node,
  h('div', { class: 'buttons' }, h('a', { class: 'button quiet', href: ref ? `#/configurations/${encodeURIComponent(ref)}` : '#/configurations', text: 'Cancel' }), next));
  fill(main, h('div', { class: 'page-head' }, h('h1', { id: 'page-title', tabIndex: -1, text: title })), steps(1), roleNote(), msg, form);
}

// settingsFields are the Mobile@Work keys, built from the server's list
// of keys, types and defaults.
async function settingsFields(cur) {
  const res = await fetch('/settings.json', { credentials: 'same-origin' });
  const specs = await res.json();
  const byKey = Object.fromEntries(specs.map((s) => [s.key, s]));
  const inputs = {};
  const base = (k) => (cur && cur.settings && k in cur.settings ? cur.settings[k] : byKey[k].default);
  for (const sp of specs) {
    const v = base(sp.key);
    const attrs = { 'data-key': sp.key };
    if (sp.type === 'bool') inputs[sp.key] = h('input', { type: 'checkbox', checked: v === 'true', attrs });
    else if (sp.type === 'int') inputs[sp.key] = h('input', { type: 'number', min: sp.min, max: sp.max, step: 1, required: true, value: v, attrs });
    else inputs[sp.key] = h('input', { type: 'url', value: v, placeholder: 'https://', attrs });
    inputs[sp.key].id = `set-${sp.key.replace(/\./g, '-')}`;
  }
  const shown = new Set();
  const groups = sections.map(([legend, keys]) => h('fieldset', {}, h('legend', { text: legend }),
    keys.filter((k) => byKey[k]).map((k) => {
      shown.add(k);
      const sp = byKey[k];
      const help = `${sp.help}${sp.type === 'int' ? ` (${sp.min} to ${sp.max}; default ${sp.default})` : ''}`;
      const f = field(labels[k] || k, inputs[k], help);
      if (k.startsWith('onboarding.') && k !== 'onboarding.enabled') f.classList.add('onboarding-sub');
      return f;
    })));
  const rest = specs.filter((s) => !shown.has(s.key));
  if (rest.length) groups.push(h('fieldset', {}, h('legend', { text: 'Other' }), rest.map((sp) => field(sp.key, inputs[sp.key], sp.help))));
  const node = h('div', { class: 'settings' }, groups);
  const onb = inputs['onboarding.enabled'];
  const sync = () => { for (const f of node.querySelectorAll('.onboarding-sub')) f.hidden = !(onb && onb.checked); };
  if (onb) onb.addEventListener('change', sync);
  sync();
  return {
    node,
    body() {
      const words = [];
      for (const sp of specs) {
        const el = inputs[sp.key];
        const v = sp.type === 'bool' ? String(el.checked) : el.value.trim();
        if (v !== base(sp.key)) words.push(`${sp.key}=${v}`);
      }
      return words.length ? { settings: words } : {};
    },
  };
}

// scriptFields pick the script, override its inputs and say when it runs.
async function scriptFields(cur) {
  const scripts = await all('/scripts').catch(() => []);
  const cs = cur && cur.script;
  const filter = h('input', { type: 'search', id: 'cfg-script-search', placeholder: 'Type a script name', autocomplete: 'off' });
  const select = h('select', { id: 'cfg-script', required: true });
  const inputsBox = h('div', { id: 'cfg-inputs' });
  let declared = [];
  const values = {};
  const drawSelect = () => {
    const q = filter.value.trim().toLowerCase();
    const keep = select.value || (cs ? cs.script_id : '');
    const shown = scripts.filter((s) => !q || s.name.toLowerCase().includes(q) || s.id === keep);
    fill(select, h('option', { value: '', text: shown.length ? 'Select a script' : 'No script matches' }),
      shown.map((s) => h('option', { value: s.id, text: `${s.name} (v${s.version})`, selected: s.id === keep })));
    if (q && shown.length === 1 && !select.value) { select.value = shown[0].id; drawInputs(); }
  };
  const drawInputs = async () => {
    fill(inputsBox);
    if (!select.value) return;
    let sc;
    try { sc = await api('GET', `/scripts/${encodeURIComponent(select.value)}`); } catch (err) { fill(inputsBox, errorBox(err, 'Script')); return; }
    declared = sc.inputs || (sc.script && sc.script.inputs) || [];
    if (!declared.length) { fill(inputsBox, h('p', { class: 'empty', text: 'This script declares no input.' })); return; }
    fill(inputsBox, declared.map((d) => {
      const over = cs && cs.script_id === select.value && cs.inputs ? cs.inputs[d.name] : undefined;
      const inp = h('input', { type: 'text', id: `in-${d.name}`, value: over ?? d.default, attrs: { 'data-input': d.name } });
      values[d.name] = inp;
      return field(`${d.label || d.name} (${d.name})`, inp, `Default: ${d.default || 'empty'}. Values may use variables such as {$userWorkEmailAddress}.`);
    }));
  };
  filter.addEventListener('input', drawSelect);
  filter.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); select.focus(); } });
  select.addEventListener('change', drawInputs);
  drawSelect();
  if (select.value) await drawInputs();

  // The schedule, as the portal asks for it.
  const sp = cs ? cs.schedule || { kind: 'once' } : { kind: 'once' };
  let touched = false;
  const once = h('input', { type: 'radio', name: 'sched', id: 'sched-once', value: 'once', checked: sp.kind !== 'daily' && sp.kind !== 'weekly' });
  const recur = h('input', { type: 'radio', name: 'sched', id: 'sched-recurring', value: 'recurring', checked: sp.kind === 'daily' || sp.kind === 'weekly' });
  const tz = h('select', { id: 'sched-tz' }, h('option', { value: 'local', text: 'Device local time', selected: sp.tz !== 'utc' }), h('option', { value: 'utc', text: 'UTC', selected: sp.tz === 'utc' }));
  const start = h('input', { type: 'date', id: 'sched-start', value: sp.start || '' });
  const end = h('input', { type: 'date', id: 'sched-end', value: sp.end || '' });
  const daily = h('input', { type: 'radio', name: 'freq', id: 'freq-daily', value: 'daily', checked: sp.kind !== 'weekly' });
  const weekly = h('input', { type: 'radio', name: 'freq', id: 'freq-weekly', value: 'weekly', checked: sp.kind === 'weekly' });
  const at = h('input', { type: 'time', id: 'sched-at', value: sp.at || '09:00' });
  const dayBoxes = days.map(([d, n]) => h('input', { type: 'checkbox', id: `day-${d}`, value: d, checked: (sp.days || []).includes(d), attrs: { 'aria-label': n } }));
  const daysBox = h('fieldset', { class: 'days' }, h('legend', { text: 'Days' }), dayBoxes.map((b, i) => h('span', { class: 'day' }, b, h('label', { htmlFor: b.id, text: days[i][1].slice(0, 3) }))));
  const recurBox = h('div', { class: 'recurring' },
    field('Time zone to use', tz), field('Start of execution', start), field('End of execution', end, 'On or after the start.'),
    h('fieldset', {}, h('legend', { text: 'Run the script' }),
      h('span', { class: 'radio' }, daily, h('label', { htmlFor: daily.id, text: 'Every day' })),
      h('span', { class: 'radio' }, weekly, h('label', { htmlFor: weekly.id, text: 'Every week' }))),
    field('At (24-hour time)', at), daysBox);
  const sync = () => { recurBox.hidden = !recur.checked; daysBox.hidden = !weekly.checked; };
  const schedBox = h('fieldset', { id: 'cfg-schedule' }, h('legend', { text: 'Script execution' }),
    h('span', { class: 'radio' }, once, h('label', { htmlFor: once.id, text: 'Run once at deployment' })),
    h('span', { class: 'radio' }, recur, h('label', { htmlFor: recur.id, text: 'Recurring execution' })),
    cs && !['once', 'daily', 'weekly'].includes(sp.kind) ? h('p', { class: 'help', text: `Now: ${cs.when}. Choose here to replace it.` }) : null,
    recurBox);
  schedBox.addEventListener('change', () => { touched = true; sync(); });
  schedBox.addEventListener('input', () => { touched = true; });
  sync();
  const runAs = h('select', { id: 'cfg-run-as' }, h('option', { value: 'root', text: 'root', selected: !cs || cs.run_as !== 'console_user' }),
    h('option', { value: 'console_user', text: 'The logged-in user', selected: cs && cs.run_as === 'console_user' }));
  const retries = h('input', { type: 'number', id: 'cfg-retries', min: 0, max: 5, step: 1, value: cs ? cs.retries || 0 : 0 });

  const node = h('div', { class: 'script-fields' },
    h('fieldset', {}, h('legend', { text: 'Select the script' }), field('Find a script', filter), field('Script', select,
      scripts.length ? '' : 'No script yet: upload one in Admin › All scripts.'), inputsBox),
    schedBox,
    h('fieldset', {}, h('legend', { text: 'Run' }), field('Run as', runAs), field('Retries after a failure', retries)));
  return {
    node,
    body() {
      const script = { script: select.value };
      const inputs = [];
      for (const d of declared) {
        const v = values[d.name] ? values[d.name].value : d.default;
        const was = cs && cs.inputs && d.name in cs.inputs ? cs.inputs[d.name] : d.default;
        if (v !== was || (cs && cs.inputs && d.name in cs.inputs)) inputs.push(`${d.name}=${v}`);
      }
      if (inputs.length) script.inputs = inputs;
      if (!cs || touched) {
        // The schedule in the CLI's words: --once, or --daily/--weekly
        // HH:MM with --days, --tz, --start and --end.
        const hhmm = at.value.slice(0, 5);
        script.schedule = once.checked ? { once: true } : {
          ...(weekly.checked ? { weekly: hhmm, days: dayBoxes.filter((x) => x.checked).map((x) => x.value).join(',') } : { daily: hhmm }),
          tz: tz.value, ...(start.value ? { start: start.value } : {}), ...(end.value ? { end: end.value } : {}),
        };
      }
      script.run_as = runAs.value;
      script.retries = Number(retries.value) || 0;
      return { script };
    },
  };
}

// distributionStep chooses whom the configuration reaches: everyone, no
// one, or a custom mix picked in four tabs; each change asks the server
// (dry run) how many devices that reaches.
export async function distributionStep(main, [ref]) {
  fill(main, loading());
  const enc = encodeURIComponent(ref);
  let c;
  try { c = await api('GET', `/configurations/${enc}`); } catch (err) { fill(main, errorBox(err, 'Configuration')); return; }
  const lists = await Promise.all([
    all('/users').then((xs) => xs.map((u) => ({ value: `user:${u.email}`, label: u.name || u.email, sub: u.name ? u.email : '' }))),
    all('/user-groups').then((xs) => xs.map((g) => ({ value: `usergroup:${g.name}`, label: g.name, sub: plural((g.members || []).length, 'member') }))),
    all('/devices').then((xs) => xs.map((d) => ({ value: `device:${d.id}`, label: d.facts && d.facts.hostname || d.id, sub: [d.facts && d.facts.serial_number, d.user].filter(Boolean).join(' · ') }))),
    all('/device-groups').then((xs) => xs.map((g) => {
      const n = typeof g === 'string' ? g : g.name;
      const members = typeof g === 'string' ? null : g.devices || g.device_ids || g.members;
      return { value: `group:${n}`, label: n, sub: members ? plural(members.length, 'device') : '' };
    })),
  ].map((p) => p.catch((err) => err)));
  const d = c.distribution || { level: 'none', targets: [] };
  const selected = new Set(d.level === 'custom' ? d.targets.map((t) => t.text) : []);
  const level = d.level || 'none';
  const radios = [['all', 'To everyone', 'Every device receives it.'], ['none', 'To no one', 'Distribute it later.'], ['custom', 'Custom distribution', 'Only the users, user groups, devices and device groups chosen below.']]
    .map(([v, label, help]) => {
      const r = h('input', { type: 'radio', name: 'level', id: `level-${v}`, value: v, checked: level === v });
      return h('div', { class: 'radio-row' }, r, h('label', { htmlFor: r.id }, h('strong', { text: label }), h('small', { text: ` ${help}` })));
    });
  const reach = h('p', { id: 'reach', class: 'reach', attrs: { 'aria-live': 'polite' } });
  const reachList = h('ul', { id: 'reach-devices', class: 'reach-devices' });
  const msg = h('div', { id: 'dist-message' });
  const words = () => {
    const lv = main.querySelector('input[name=level]:checked').value;
    return lv === 'custom' ? [...selected] : [lv];
  };
  const preview = debounce(async () => {
    const to = words();
    if (!to.length) { reach.textContent = 'Choose at least one user, group or device.'; reach.dataset.count = '0'; fill(reachList); return; }
    try {
      const r = await api('POST', `/configurations/${enc}/distribution`, { to, dry_run: true });
      const n = r.count ?? (r.devices || []).length;
      reach.dataset.count = String(n);
      reach.textContent = `Reaches ${plural(n, 'device')}`;
      const devs = r.devices || [];
      fill(reachList, devs.slice(0, 8).map((x) => h('li', { text: x.name || (x.facts && x.facts.hostname) || x.serial_number || x.id })),
        devs.length > 8 ? h('li', { text: `and ${devs.length - 8} more` }) : null);
    } catch (err) { delete reach.dataset.count; reach.textContent = ''; fill(reachList, h('li', {}, errorBox(err, 'Preview'))); }
  }, 200);

  // The tabs of the custom distribution.
  const tabNames = ['Users', 'User groups', 'Devices', 'Device groups'];
  const tabs = tabNames.map((n, i) => h('button', { type: 'button', id: `tab-${i}`, class: 'tab', text: n,
    attrs: { role: 'tab', 'aria-selected': i === 0 ? 'true' : 'false', 'aria-controls': `panel-${i}`, tabindex: i === 0 ? '0' : '-1' } }));
  const panels = tabNames.map((n, i) => h('div', { id: `panel-${i}`, class: 'tabpanel', hidden: i !== 0, attrs: { role: 'tabpanel', 'aria-labelledby': `tab-${i}` } },
    lists[i] instanceof Error ? errorBox(lists[i], n) : checklist(n, lists[i], selected, preview)));
  const pick = (i, focus) => {
    tabs.forEach((t, j) => { t.setAttribute('aria-selected', String(i === j)); t.tabIndex = i === j ? 0 : -1; panels[j].hidden = i !== j; });
    if (focus) tabs[i].focus();
  };
  tabs.forEach((t, i) => {
    t.addEventListener('click', () => pick(i, false));
    t.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowRight') { e.preventDefault(); pick((i + 1) % tabs.length, true); }
      if (e.key === 'ArrowLeft') { e.preventDefault(); pick((i + tabs.length - 1) % tabs.length, true); }
    });
  });
  const custom = h('div', { id: 'custom', class: 'custom' }, h('div', { class: 'tabs', attrs: { role: 'tablist', 'aria-label': 'Targets' } }, tabs), panels);
  const sync = () => { custom.hidden = main.querySelector('input[name=level]:checked').value !== 'custom'; preview(); };

  const done = h('button', { type: 'submit', id: 'dist-done', text: 'Done' });
  const form = h('form', { id: 'dist-form', class: 'wide', on: { submit: async (e) => {
    e.preventDefault();
    fill(msg);
    const to = words();
    if (!to.length) { fill(msg, errorBox(new Error('Choose at least one target, or distribute to no one.'))); return; }
    done.disabled = true;
    try {
      await api('POST', `/configurations/${enc}/distribution`, { to });
      toast(`${c.name}: distributed.`);
      location.hash = `#/configurations/${enc}`;
    } catch (err) {
      const box = errorBox(err); box.tabIndex = -1; fill(msg, box); box.focus();
    } finally { done.disabled = false; }
  } } },
  h('fieldset', { class: 'levels', on: { change: sync } }, h('legend', { text: 'Distribution level' }), radios),
  custom,
  h('section', { class: 'panel reach-box', attrs: { 'aria-label': 'Reach' } }, reach, reachList),
  h('div', { class: 'buttons' }, h('a', { class: 'button quiet', href: `#/configurations/${enc}/edit`, text: 'Back' }), done));
  fill(main, h('div', { class: 'page-head' }, h('h1', { id: 'page-title', tabIndex: -1, text: `Distribute ${c.name}` })),
    steps(2), roleNote(), h('p', { class: 'sub', text: `${kindNames[c.kind] || c.kind}; now: ${distributionText(c.distribution)}` }), msg, form);
  sync();
}

