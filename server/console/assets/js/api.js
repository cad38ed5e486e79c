// The admin API of the same origin: JSON in and out, the session cookie
// sent by the browser, the CSRF token added to every change.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
  // noRoute is an answer of a server that does not have this part of
  // the API (yet): the page says so instead of breaking.
  get noRoute() { return this.status === 404 && this.code === 'not_found' && this.message.startsWith('no API route'); }
}

const session = { name: '', role: '', csrf: '' };
export function currentSession() { return session; }
export function setSession(s) {
  session.name = s ? s.name : '';
  session.role = s ? s.role : '';
  session.csrf = s ? s.csrf_token || '' : '';
}

// canOperate and canAdmin mirror the server's role rule, to hide what a
// role may not do; the server refuses it anyway.
export function canOperate() { return session.role === 'admin' || session.role === 'operator'; }
export function canAdmin() { return session.role === 'admin'; }

// query builds ?a=b from the non-empty values of params.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// api calls METHOD /api/v1PATH with body as JSON; it resolves to the
// answer's document or rejects with an ApiError. A session that ended
// sends the console back to sign in.
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'unreachable', `The server cannot be reached: ${e.message}`);
  }
  let doc = null;
  try { doc = await res.json(); } catch { doc = null; }
  if (!res.ok) {
    const err = new ApiError(res.status, doc && doc.code || 'internal', doc && doc.error || `The server answered ${res.status}`);
    if (res.status === 401 && path !== '/session') window.dispatchEvent(new CustomEvent('maw:signedout', { detail: err }));
    throw err;
  }
  return doc;
}

// all reads every page of a list.
export async function all(path, params = {}) {
  const items = [];
  let cursor = '';
  for (;;) {
    const p = await api('GET', path + query({ ...params, limit: 1000, cursor }));
    items.push(...(p.items || []));
    if (!p.next) return items;
    cursor = p.next;
  }
}
