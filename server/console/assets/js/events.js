// Live updates: one server-sent event stream, open while a page listens.
const listeners = new Set();
let source = null;

function open() {
  source = new EventSource('/api/v1/events');
  for (const type of ['checkin', 'result', 'ready']) {
    source.addEventListener(type, (e) => {
      let data = {};
      try { data = JSON.parse(e.data); } catch { data = {}; }
      for (const fn of listeners) fn(type, data);
    });
  }
  source.addEventListener('error', () => {
    document.documentElement.dataset.live = 'off';
  });
  source.addEventListener('open', () => { document.documentElement.dataset.live = 'on'; });
}

// listen calls fn(type, data) on every event until the returned function
// is called; the page router calls it when the page goes.
export function listen(fn) {
  listeners.add(fn);
  if (!source || source.readyState === EventSource.CLOSED) open();
  return () => {
    listeners.delete(fn);
    if (!listeners.size && source) { source.close(); source = null; delete document.documentElement.dataset.live; }
  };
}

// debounce runs fn at most once per ms, after the last call.
export function debounce(fn, ms) {
  let t = 0;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}
