// One session: what it is (/sessions/ID, every few ticks) and why it is
// alive, item by item (/sessions/ID/reasons, every tick), each item
// linking to the timer, watcher, child session or queued event behind
// it; the items add up to the refcount.  With a token, a signal form.
import { get, send } from '../api.js';
import { h, fill, setText, table, td, num, syncRows, note } from '../dom.js';
import { int, duration, dateTime, clock } from '../format.js';
import { href, sessionHref } from '../router.js';
import { pager, sessionLink, pageParams, field } from '../widgets.js';
import { canWrite, subscribe } from '../status.js';
import { countdown, startCountdowns } from '../clock.js';

const INFO_EVERY = 5; // ticks between two reads of the session itself

// "file:line", as post, refcount_increment and postback record them.
export function place(x) {
  return `${x.file}:${x.line}`;
}

// What an item is, where it links, what else to say, what it holds.
function describe(sid, it, postbacks = []) {
  const q = (s) => `“${s}”`;
  switch (it.reason) {
    case 'timers':
      return { what: h('a', { href: href('timers', '', { session: sid, highlight: it.id }) }, `timer ${it.id} ${q(it.name)}`),
        more: [countdown(it.when), ` (at ${clock(it.when)})`] };
    case 'events to':
      return { what: h('a', { href: href('queue', '', { session: sid, highlight: it.id }) }, `event ${it.id} ${q(it.name)}`),
        more: ['queued from ', sessionLink(it.other)] };
    case 'events from':
      return { what: h('a', { href: href('queue', '', { session: sid, highlight: it.id }) }, `event ${it.id} ${q(it.name)}`),
        more: ['posted to ', sessionLink(it.other)] };
    case 'children':
      return { what: h('a', { href: sessionHref(it.id) }, `session ${it.id}`), more: ['child session'] };
    case 'handles':
      return { what: h('a', { href: href('io', '', { session: sid, highlight: it.id }) }, `fd ${it.id}`),
        more: [`${(it.modes || []).join(', ')} → ${q(it.name)}`] };
    case 'child pids':
      return { what: h('a', { href: href('signals', '', { session: sid, highlight: it.id }) }, `pid ${it.id}`),
        more: it.name ? [`→ ${q(it.name)}`] : [] };
    case 'aliases':
      return { what: `alias ${q(it.name)}`, more: [] };
    case 'extra refs':
      return { what: `tag ${q(it.name)}`,
        more: [`count ${it.count}`, it.file ? [', last taken at ', h('code', { class: 'where' }, place(it))] : ', taken at an unknown place'] };
    case 'postbacks': {
      // Where each was made, from the session's own read.
      const live = postbacks.filter((pb) => !pb.weak);
      return { what: `${it.count} live postback${it.count === 1 ? '' : 's'}`,
        more: live.length ? ['made at ', live.map((pb, i) => [i ? ', ' : '', pb.file ? h('code', { class: 'where' }, place(pb)) : 'an unknown place'])] : [],
        holds: Math.max(0, it.count || 0) };
    }
    default:
      return { what: it.name || String(it.id ?? ''), more: [] };
  }
}

export default {
  id: 'session',
  label: 'Session',
  mount(root, route) {
    const sid = /^\d+$/.test(route.arg) ? route.arg : '';
    if (!sid) return pickForm(root);
    const st = { ...pageParams(route.params, 200), tick: 0 };
    const msg = note();
    const info = h('dl', { class: 'facts' });
    const sum = h('p', { class: 'sum', id: 'reasons-sum' });
    const t = table('Why it is alive', [
      { label: 'Reason' }, { label: 'Item' }, { label: 'Details' }, { label: 'Holds', num: true },
    ]);
    const pg = pager('Reason pages', ({ offset, limit }) => { st.offset = offset; st.limit = limit; self.kick(); });
    const sig = signalForm(sid);
    root.append(h('h2', null, `Session ${sid}`),
      h('p', { class: 'links' }, h('a', { href: href('trace', '', { session: sid }), id: 'session-trace-link' },
        `Its trace records`), ' (the trace log, filtered on session ', sid, ')'),
      msg.el,
      h('section', { 'aria-labelledby': 'info-h' }, h('h3', { id: 'info-h' }, 'What it is'), info),
      h('section', { 'aria-labelledby': 'reasons-h' }, h('h3', { id: 'reasons-h' }, 'Why it is alive'), sum, pg.el, t.el),
      sig.el);

    let postbacks = [];

    function renderInfo(s) {
      postbacks = s.postbacks || [];
      const children = s.children || [];
      const shown = children.slice(0, 100);
      fill(info,
        fact('Aliases', (s.aliases || []).join(', ') || 'none'),
        fact('Parent', sessionLink(s.parent, null)),
        fact('Refcount', String(s.refcount)),
        fact('State', s.stopping ? 'stopping' : s.marked_for_gc ? 'marked for garbage collection' : 'alive'),
        fact('Events dispatched', int(s.events_dispatched)),
        fact('Busy in handlers', duration(s.busy_seconds)),
        fact('Last dispatch', s.last_dispatch ? dateTime(s.last_dispatch) : 'never'),
        fact('Slow dispatches', s.slow_dispatches ? [int(s.slow_dispatches), ' (', h('a', { href: href('lints', '', { kind: 'slow_handler' }) }, 'lints'), ')'] : 'none'),
        fact(`Postbacks (${int((s.postbacks || []).length)})`, (s.postbacks || []).length
          ? h('ul', { class: 'postbacks' }, s.postbacks.map((pb) => h('li', null,
            `${pb.callback ? 'callback' : 'postback'} to “${pb.event}”, made at `,
            pb.file ? h('code', { class: 'where' }, place(pb)) : 'an unknown place',
            `, invoked ${int(pb.invocations)} time${pb.invocations === 1 ? '' : 's'}${pb.weak ? ' (weak: holds nothing)' : ''}`)))
          : 'none'),
        fact('Created', dateTime(s.created)),
        fact(`Handlers (${int(s.n_handlers)})`, (s.handlers || []).join(', ') || 'none'),
        fact(`Children (${int(s.n_children)})`, shown.length
          ? [shown.map((c, i) => [i ? ', ' : '', h('a', { href: sessionHref(c) }, String(c))]),
            children.length > shown.length ? [' … ', h('a', { href: href('sessions', '', { parent: sid }) }, 'all of them')] : null]
          : 'none'));
    }

    function renderReasons(d, page) {
      const ok = d.sum === d.refcount;
      fill(sum, `${int(page.total)} item${page.total === 1 ? '' : 's'} hold ${int(d.sum)} reference${d.sum === 1 ? '' : 's'}; the refcount is ${int(d.refcount)}: `,
        h('strong', { class: ok ? 'good' : 'bad' }, ok ? 'they add up.' : 'they differ!'));
      sum.dataset.sum = d.sum;
      sum.dataset.refcount = d.refcount;
      pg.update(page);
      t.setEmpty(d.items.length ? '' : 'Nothing holds it: it stops at the end of this timeslice.');
      const items = d.items.map((it, i) => ({ ...it, n: page.offset + i }));
      syncRows(t.tbody, items, (it) => `${it.reason}/${it.id}/${it.name}/${it.n}`, (it) => {
        const x = describe(sid, it, postbacks);
        return h('tr', { class: 'reason', dataset: { reason: it.reason } },
          td(it.reason), h('th', { scope: 'row' }, x.what), td(x.more), num(x.holds ?? 1));
      }, (it) => JSON.stringify(it));
      startCountdowns();
    }

    async function refresh(signal) {
      try {
        if (st.tick++ % INFO_EVERY === 0) renderInfo((await get(`sessions/${sid}`, null, signal)).data);
        const doc = await get(`sessions/${sid}/reasons`, { offset: st.offset, limit: st.limit }, signal);
        renderReasons(doc.data, doc.page);
        msg.set('');
      } catch (e) {
        if (e.status === 404) msg.set(`Session ${sid} is gone: it has stopped, or never was.`, 'error');
        else if (e.kind === 'http' && e.status !== 503) msg.set(e.message, 'error');
        throw e;
      }
    }

    const self = { refresh, kick() {}, destroy: sig.destroy };
    return self;
  },
};

function fact(label, value) {
  return h('div', null, h('dt', null, label), h('dd', null, value));
}

// No id in the address: ask for one.
function pickForm(root) {
  const f = field('Session id', { inputmode: 'numeric', pattern: '[0-9]+', required: true, id: 'pick-session' });
  root.append(h('h2', null, 'Session'),
    h('p', null, 'Pick a session in the table or the tree, or give its id:'),
    h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); location.hash = sessionHref(f.input.value.trim()); } },
      f.el, h('button', { type: 'submit' }, 'Show')));
  return {};
}

// Raise a signal at the session (POST /sessions/ID/signal, token).
function signalForm(sid) {
  const name = field('Signal', { value: 'USR2', id: 'signal-name', autocomplete: 'off', size: 8, list: 'signal-names' });
  const list = h('datalist', { id: 'signal-names' }, ['TERM', 'INT', 'HUP', 'QUIT', 'USR1', 'USR2', 'IDLE', 'ZOMBIE'].map((s) => h('option', { value: s })));
  const btn = h('button', { type: 'submit' }, 'Send signal');
  const out = note();
  const why = h('p', { class: 'hint' });
  const el = h('section', { 'aria-labelledby': 'signal-h' }, h('h3', { id: 'signal-h' }, 'Send a signal'),
    h('form', { class: 'filters', onsubmit: submit }, name.el, list, btn), why, out.el);

  async function submit(e) {
    e.preventDefault();
    const s = name.input.value.trim().replace(/^SIG/, '');
    if (!s) return;
    try {
      await send('POST', `sessions/${sid}/signal`, { signal: s });
      out.set(`Sent SIG${s} to session ${sid}.`, 'good');
    } catch (err) {
      out.set(`Not sent: ${err.message}`, 'error');
    }
  }

  function update() {
    const w = canWrite();
    btn.disabled = !w;
    name.input.disabled = !w;
    setText(why, w ? 'Raises the signal at this session and its children, as POE’s signal() does.'
      : 'Read-only: sending signals needs the token (see Control).');
  }
  const off = subscribe(update);
  update();
  return { el, destroy: off };
}
