// The page's view of its link to the inspector: connected or not, the
// kernel busy (a 503 that says where it is stuck), the last kernel
// summary, and whether changes are allowed (the token).  Views and the
// header subscribe; api.js and the header feed it.

const state = {
  connected: true,      // false after a request could not reach the server
  everConnected: false, // true once any answer came
  busy: null,           // {session, event, for_seconds, dispatching, message, at}
  retryAt: 0,           // when the header's next try is (ms since epoch), while disconnected
  kernel: null,         // the last /api/v1/kernel data
  serverReadOnly: false,// the kernel says read_only, or the server answered 403
  token: 'none',        // none | unverified | accepted | rejected | refused
  lastAnswerAt: 0,      // when the inspector last answered anything (ms since epoch)
  down: null,           // while not connected: 'network' (refused, broken) or 'timeout' (no answer in time)
  downSince: 0,         // ... and since when nothing has answered (the last answer's time)
  stale: null,          // the current view shows an earlier answer: {at (0: none to show), busy, message}
};

const listeners = new Set();

export function getStatus() {
  return state;
}

export function setStatus(patch) {
  let changed = false;
  for (const [k, v] of Object.entries(patch)) {
    if (state[k] !== v) {
      state[k] = v;
      changed = true;
    }
  }
  if (changed) for (const fn of [...listeners]) fn(state);
}

// fn(state) on every change; returns the unsubscribe function.
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// Whether the page may change things: a token the server took.
export function canWrite() {
  return !state.serverReadOnly && (state.token === 'accepted' || state.token === 'unverified');
}
