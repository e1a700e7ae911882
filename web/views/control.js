// Changing things: the token (kept in this tab's sessionStorage, sent
// only as an Authorization header) and the trace groups' switches.
import { get, send, getToken, setToken, verifyToken } from '../api.js';
import { h, fill, setText, note } from '../dom.js';
import { groupShort } from '../format.js';
import { canWrite, getStatus, subscribe } from '../status.js';

const ABOUT = {
  TRACE_EVENTS: 'events posted, queued and dispatched',
  TRACE_FILES: 'the loop’s waits and file activity',
  TRACE_REFCNT: 'reference count changes',
  TRACE_RETVALS: 'failing calls’ return values',
  TRACE_SESSIONS: 'sessions created and stopped',
  TRACE_SIGNALS: 'signals raised and delivered',
  TRACE_DESTROY: 'what a stopping session still held',
  TRACE_PROFILE: 'handler time per event',
};

export default {
  id: 'control',
  label: 'Control',
  mount(root) {
    const input = h('input', { type: 'password', id: 'token', autocomplete: 'off', spellcheck: 'false' });
    const tokenNote = note();
    const tokenForm = h('form', { class: 'filters', id: 'token-form', onsubmit: save },
      h('label', { class: 'field' }, h('span', null, 'Access token'), input),
      h('button', { type: 'submit' }, 'Use token'),
      h('button', { type: 'button', onclick: forget }, 'Forget token'));
    const state = h('p', { class: 'access-state', id: 'access-state' });
    const groups = h('fieldset', { class: 'groups', id: 'trace-groups' }, h('legend', null, 'Trace groups'));
    const groupNote = note();
    root.append(h('h2', null, 'Control'),
      h('section', { 'aria-labelledby': 'token-h' }, h('h3', { id: 'token-h' }, 'Token'),
        h('p', { class: 'hint' }, 'The token the inspector was started with (POE_INSPECTOR_TOKEN). It stays in this tab only (sessionStorage) and goes to the server only in an Authorization header.'),
        tokenForm, tokenNote.el, state),
      h('section', { 'aria-labelledby': 'groups-h' }, h('h3', { id: 'groups-h' }, 'Trace groups'),
        h('p', { class: 'hint' }, 'Which groups the kernel traces now. Switching needs the token.'),
        groups, groupNote.el));

    const boxes = new Map(); // name → {input, pending}

    async function save(e) {
      e.preventDefault();
      const t = input.value.trim();
      if (!t) return;
      setToken(t);
      input.value = '';
      await check();
    }

    function forget() {
      setToken('');
      input.value = '';
      tokenNote.set('Token forgotten: the page is read-only.');
    }

    async function check() {
      try {
        const r = await verifyToken();
        // Accepted is said once, by the access line under the header.
        tokenNote.set(r === 'accepted' ? '' : r === 'rejected' ? 'The server did not accept this token (401).'
          : r === 'refused' ? 'This inspector is read-only: it was started without a token (403).' : '', r === 'accepted' ? 'good' : 'error');
      } catch (err) {
        tokenNote.set(`Could not check the token: ${err.message}`, 'error');
      }
    }

    function renderState() {
      const s = getStatus();
      const msg = s.serverReadOnly ? 'Read-only: this inspector was started without a token; nothing can be switched.'
        : s.token === 'none' ? 'Read-only: no token entered.'
          : s.token === 'rejected' ? 'Read-only: the token was refused.'
            : s.token === 'accepted' ? 'Switching is allowed.' : 'Token entered, not checked yet.';
      setText(state, msg);
      state.className = 'access-state ' + (canWrite() ? 'rw' : 'ro');
      for (const b of boxes.values()) b.input.disabled = !canWrite() || !b.compiled || b.pending;
    }

    async function flip(name, on, b) {
      b.pending = true;
      renderState();
      try {
        await send('PUT', 'trace/groups', { [name]: on });
        groupNote.set(`${name} is ${on ? 'on' : 'off'}.`, 'good');
      } catch (err) {
        b.input.checked = !on;
        if (err.status === 401 || err.status === 403) await check();
        groupNote.set(`Could not switch ${name}: ${err.message}`, 'error');
      } finally {
        b.pending = false;
        renderState();
      }
    }

    function renderGroups(data) {
      for (const [name, g] of Object.entries(data)) {
        let b = boxes.get(name);
        if (!b) {
          const cb = h('input', { type: 'checkbox', id: `group-${name}`, name });
          b = { input: cb, pending: false, compiled: g.compiled };
          cb.addEventListener('change', () => flip(name, cb.checked, b));
          boxes.set(name, b);
          groups.append(h('div', { class: 'check' }, cb,
            h('label', { for: cb.id }, h('code', null, name), ' ', h('span', { class: 'muted' }, `${ABOUT[name] || groupShort(name)}${g.compiled ? '' : ' (not compiled in)'}`))));
        }
        b.compiled = g.compiled;
        if (!b.pending) b.input.checked = !!g.enabled;
      }
      renderState();
    }

    async function refresh(signal) {
      renderGroups((await get('trace/groups', null, signal)).data);
    }

    const off = subscribe(renderState);
    renderState();
    if (getToken()) fill(tokenNote.el, 'A token is set for this tab.');
    return { refresh, destroy: off };
  },
};
