// The inspector's JSON API: one fetch wrapper for the envelope
// {"api":1,"data":...,"page":{offset,limit,total}} and the errors
// {"api":1,"error":{status,message,busy?}}, the token (sessionStorage,
// sent only as an Authorization header) and the connection state.
import { getStatus, setStatus } from './status.js';

const TOKEN_KEY = 'poe-inspector-token';

export class ApiError extends Error {
  // kind: network (no answer), timeout (no answer in time: a frozen or
  // unreachable program), http (an error answer), parse, abort
  constructor(kind, status, message, busy = null) {
    super(message);
    this.kind = kind;
    this.status = status;
    this.busy = busy;
  }
}

export function isAbort(e) {
  return e && (e.kind === 'abort' || e.name === 'AbortError');
}

// "?a=1&b=x" from an object, leaving out empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

export function apiUrl(path, params) {
  return '/api/v1/' + path + query(params);
}

// The trace log, lineage and the exports are answered without the
// kernel; every other endpoint waits for the kernel's thread and can
// answer busy.
function kernelBound(path) {
  return !/^(trace|export|events)(\/|$)/.test(path);
}

// How long a request may go unanswered.  The inspector answers any
// kernel-bound request within its answer timeout (for a stuck kernel it
// answers for it: a 503, or /kernel with responding false), so no
// answer a little past it means the program is frozen (SIGSTOP) or
// unreachable.  The trace log's reads run on the server's pool and may
// take longer (its query deadline is 10 s); a long poll waits wait=S.
const MARGIN_MS = 2500;
const POOL_MS = 15000;
export function timeoutFor(path, params) {
  const k = getStatus().kernel;
  if (path === 'trace/tail') return (Number(params && params.wait) || 0) * 1000 + POOL_MS;
  if (!kernelBound(path)) return POOL_MS;
  // Until the first summary says what the answer timeout is (a slow
  // start, a program under valgrind): a generous deadline.
  if (!k || !k.answer_timeout_ms) return 10000;
  return k.answer_timeout_ms + MARGIN_MS;
}

function noted(err, path) {
  if (err.kind === 'network' || err.kind === 'timeout') {
    const s = getStatus();
    setStatus({ connected: false, down: err.kind, downSince: s.downSince || s.lastAnswerAt || Date.now() });
  } else if (err.kind === 'http') {
    setStatus({ connected: true, everConnected: true });
    if (err.status === 503 && err.busy) setStatus({ busy: { ...err.busy, message: err.message, at: Date.now() } });
    if (err.status === 403 && !kernelBound(path)) setStatus({ serverReadOnly: true });
  }
  return err;
}

async function call(method, path, params, body, signal, token) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  // Every request has a deadline: its own controller, aborted by the
  // caller's signal or by the timer, whichever comes first.
  const ctrl = new AbortController();
  const ms = timeoutFor(path, params);
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; ctrl.abort(); }, ms);
  const onAbort = () => ctrl.abort();
  if (signal) {
    if (signal.aborted) ctrl.abort();
    else signal.addEventListener('abort', onAbort, { once: true });
  }
  const aborted = () => timedOut
    ? noted(new ApiError('timeout', 0, `no answer within ${(ms / 1000).toFixed(1)} s`), path)
    : new ApiError('abort', 0, 'aborted');
  let res, doc;
  try {
    try {
      res = await fetch(apiUrl(path, params), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: ctrl.signal,
        cache: 'no-store',
      });
    } catch (e) {
      if (isAbort(e)) throw aborted();
      throw noted(new ApiError('network', 0, 'cannot reach the inspector'), path);
    }
    try {
      doc = await res.json();
    } catch (e) {
      if (isAbort(e)) throw aborted();
      if (e instanceof TypeError) throw noted(new ApiError('network', 0, 'the connection broke'), path);
      throw noted(new ApiError('parse', res.status, `HTTP ${res.status}: the answer is not JSON`), path);
    }
  } finally {
    clearTimeout(timer);
    if (signal) signal.removeEventListener('abort', onAbort);
  }
  setStatus({ lastAnswerAt: Date.now(), down: null, downSince: 0 });
  if (!res.ok || !doc || doc.error) {
    const e = (doc && doc.error) || {};
    throw noted(new ApiError('http', res.status, e.message || `HTTP ${res.status}`, e.busy || null), path);
  }
  const patch = { connected: true, everConnected: true };
  // The kernel summary answers a stuck kernel too (responding false),
  // with what it is stuck in: that is busy, not an answer from it.
  const stuck = doc.data && doc.data.responding === false && doc.data.busy;
  if (stuck) patch.busy = { ...stuck, message: 'the kernel did not answer in time', at: Date.now() };
  else if (kernelBound(path) && getStatus().busy) patch.busy = null;
  setStatus(patch);
  return doc;
}

// The last answer of each kernel-bound GET (by its URL), for a view
// opened or refreshed while the kernel is stuck: it shows that, marked
// stale, rather than nothing.  A few dozen URLs, the oldest dropped.
const CACHE_MAX = 48;
const lastGood = new Map(); // url → {doc, at}

// GET /api/v1/PATH?params: the whole envelope ({data, page, trace_log}).
// While the kernel is stuck (a 503 that says where), the URL's last
// answer comes back instead with stale: {at, busy}, and the status's
// stale says so; with none, the 503 is thrown (status stale, at 0).
export async function get(path, params, signal) {
  const url = apiUrl(path, params);
  const cacheable = kernelBound(path) && path !== 'kernel';
  try {
    const doc = await call('GET', path, params, undefined, signal, null);
    if (cacheable) {
      lastGood.delete(url);
      lastGood.set(url, { doc, at: Date.now() });
      if (lastGood.size > CACHE_MAX) lastGood.delete(lastGood.keys().next().value);
      if (getStatus().stale) setStatus({ stale: null });
    }
    return doc;
  } catch (e) {
    if (!cacheable || e.kind !== 'http' || e.status !== 503 || !e.busy) throw e;
    const last = lastGood.get(url);
    setStatus({ stale: { at: last ? last.at : 0, busy: e.busy, message: e.message } });
    if (!last) throw e;
    return { ...last.doc, stale: { at: last.at, busy: e.busy } };
  }
}

// A change (PUT, POST) with the token; ApiError 403 means the server is
// read-only, 401 that it did not take the token.
export function send(method, path, body) {
  return call(method, path, null, body, undefined, getToken());
}

export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

export function setToken(t) {
  try {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage off: the token lives as long as this page */
  }
  setStatus({ token: t ? 'unverified' : 'none' });
}

// Checks the stored token with an empty change (PUT {} switches nothing).
export async function verifyToken() {
  if (!getToken()) {
    setStatus({ token: 'none' });
    return 'none';
  }
  try {
    await send('PUT', 'trace/groups', {});
    setStatus({ token: 'accepted' });
  } catch (e) {
    if (e.status === 401) setStatus({ token: 'rejected' });
    else if (e.status === 403) setStatus({ token: 'refused', serverReadOnly: true });
    else throw e;
  }
  return getStatus().token;
}
