// The console's shell: who is signed in, the navigation, and the router
// from the address's #/path to a page.
import { h, fill } from './dom.js';
import { api, setSession, currentSession } from './api.js';
import { errorBox } from './ui.js';
import { signIn } from './pages/signin.js';
import { dashboard } from './pages/dashboard.js';
import { configList, configChooser, configDetail } from './pages/configs.js';
import { configForm, distributionStep } from './pages/configform.js';
import { scriptList, scriptNew, scriptDetail } from './pages/scripts.js';
import { deviceList, deviceDetail } from './pages/devices.js';
import { results } from './pages/results.js';
import { apps } from './pages/apps.js';
import { audit } from './pages/audit.js';

// routes: [pattern, nav section, page(main, params, query) → cleanup?].
const routes = [
  [/^\/$/, 'dashboard', dashboard],
  [/^\/configurations$/, 'configurations', configList],
  [/^\/configurations\/new$/, 'configurations', configChooser],
  [/^\/configurations\/new\/(mobileatwork|script)$/, 'configurations', (m, p, q) => configForm(m, { kind: p[0] }, q)],
  [/^\/configurations\/([^/]+)\/edit$/, 'configurations', (m, p, q) => configForm(m, { ref: p[0] }, q)],
  [/^\/configurations\/([^/]+)\/distribution$/, 'configurations', distributionStep],
  [/^\/configurations\/([^/]+)$/, 'configurations', configDetail],
  [/^\/scripts$/, 'scripts', scriptList],
  [/^\/scripts\/new$/, 'scripts', scriptNew],
  [/^\/scripts\/([^/]+)$/, 'scripts', scriptDetail],
  [/^\/devices$/, 'devices', deviceList],
  [/^\/devices\/([^/]+)$/, 'devices', deviceDetail],
  [/^\/results$/, 'results', results],
  [/^\/apps$/, 'apps', apps],
  [/^\/audit$/, 'audit', audit],
];

const main = document.getElementById('main');
let cleanup = null;
let turns = 0; // counts route changes, so a late page knows it is gone
let signedIn = false;

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, qs] = raw.split('?');
  return { path: path || '/', query: new URLSearchParams(qs || '') };
}

async function route() {
  if (cleanup) { try { cleanup(); } catch { /* the page is gone anyway */ } cleanup = null; }
  const { path, query } = parseHash();
  const turn = ++turns;
  if (!signedIn) {
    showShell(false);
    signIn(main, path === '/signin' ? '' : location.hash, onSignedIn, sessionNote);
    sessionNote = '';
    return;
  }
  if (path === '/signin') { location.hash = '#/'; return; }
  for (const [re, section, page] of routes) {
    const m = path.match(re);
    if (!m) continue;
    for (const a of document.querySelectorAll('#nav a')) {
      if (a.dataset.route === section) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    }
    // Each page draws into its own view: a page still loading when the
    // address changes draws into a view no longer shown, and its live
    // updates stop as soon as it is done.
    const view = h('div', { class: 'view' });
    fill(main, view);
    const params = m.slice(1).map(decodeURIComponent);
    let c = null;
    try {
      c = await page(view, params, query);
    } catch (err) {
      view.appendChild(errorBox(err));
    }
    if (turn !== turns) { if (typeof c === 'function') c(); return; }
    cleanup = typeof c === 'function' ? c : null;
    const title = document.getElementById('page-title');
    if (title) { document.title = `${title.textContent} · Mobile@Work`; if (!main.contains(document.activeElement) || document.activeElement === main) title.focus(); }
    return;
  }
  fill(main, h('h1', { id: 'page-title', tabIndex: -1, text: 'Not found' }), h('p', {}, 'No page here. ', h('a', { href: '#/', text: 'Back to the dashboard' })));
}

function showShell(on) {
  document.getElementById('top').hidden = !on;
  const s = currentSession();
  document.getElementById('whoami').textContent = on ? `${s.name} · ${s.role}` : '';
  document.body.dataset.role = on ? s.role : '';
}

function onSignedIn(sess, back) {
  setSession(sess);
  signedIn = true;
  showShell(true);
  if (back && back !== location.hash) location.hash = back; else route();
}

let sessionNote = '';
window.addEventListener('maw:signedout', () => {
  if (!signedIn) return;
  signedIn = false;
  setSession(null);
  sessionNote = 'Your session has ended. Sign in again.';
  route();
});

document.getElementById('signout').addEventListener('click', async () => {
  try { await api('DELETE', '/session'); } catch { /* signed out either way */ }
  signedIn = false;
  setSession(null);
  location.hash = '#/signin';
  route();
});

window.addEventListener('hashchange', route);

(async () => {
  try {
    const s = await api('GET', '/session');
    setSession(s);
    signedIn = true;
    showShell(true);
  } catch { signedIn = false; }
  route();
})();
