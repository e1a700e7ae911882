// The inspector's JSON API: one fetch wrapper for the envelope
// {"api":1,"data":...,"page":{offset,limit,total}} and the errors
// {"api":1,"error":{status,message,busy?}}, the token (sessionStorage,
// sent only as an Authorization header) and the connection state.
import { getStatus, setStatus } from './status.js';

const TOKEN_KEY = 'poe-inspector-token';

export class ApiError extends Error {
  // kind: network (no answer), http (an error answer), parse, abort
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

// The trace log and the exports are answered without the kernel; every
// other endpoint waits for the kernel's thread and can answer busy.
function kernelBound(path) {
  return !/^(trace|export)(\/|$)/.test(path);
}

function noted(err, path) {
  if (err.kind === 'network') {
    setStatus({ connected: false });
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
  let res, doc;
  try {
    res = await fetch(apiUrl(path, params), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: 'no-store',
    });
  } catch (e) {
    if (isAbort(e)) throw new ApiError('abort', 0, 'aborted');
    throw noted(new ApiError('network', 0, 'cannot reach the inspector'), path);
  }
  try {
    doc = await res.json();
  } catch (e) {
    if (isAbort(e)) throw new ApiError('abort', 0, 'aborted');
    if (e instanceof TypeError) throw noted(new ApiError('network', 0, 'the connection broke'), path);
    throw noted(new ApiError('parse', res.status, `HTTP ${res.status}: the answer is not JSON`), path);
  }
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

// GET /api/v1/PATH?params: the whole envelope ({data, page, trace_log}).
export function get(path, params, signal) {
  return call('GET', path, params, undefined, signal, null);
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
