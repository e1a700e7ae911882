// #hash routes: #/VIEW[/ARG][?key=value&...].  Links change the hash
// (and so the view); a view's own filters and page only replace it, so
// the address can be shared or reloaded without filling the history.

export function parse(hash = location.hash) {
  const s = hash.replace(/^#\/?/, '');
  const qi = s.indexOf('?');
  const path = qi < 0 ? s : s.slice(0, qi);
  const qs = qi < 0 ? '' : s.slice(qi + 1);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { view: parts[0] || '', arg: parts[1] || '', params: Object.fromEntries(new URLSearchParams(qs)) };
}

export function href(view, arg = '', params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const qs = q.toString();
  return '#/' + encodeURIComponent(view) + (arg !== '' && arg !== null && arg !== undefined ? '/' + encodeURIComponent(arg) : '') + (qs ? '?' + qs : '');
}

// The view's parameters changed: say so in the address, quietly.
export function replaceParams(params) {
  const cur = parse();
  const next = href(cur.view || 'sessions', cur.arg, params);
  if (next !== location.hash) history.replaceState(null, '', next);
}

export function sessionHref(id) {
  return href('session', id);
}
