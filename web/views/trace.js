// The trace log: filters (group, session, event, kind, time range), the
// server's paging, exports with the same filters, and a live tail
// (/trace/tail?after=ID&wait=10, a long poll) on the newest page that
// can be paused.
import { get, apiUrl } from '../api.js';
import { h, fill, setText, table, td, syncRows, note } from '../dom.js';
import { int, stamp, duration, groupShort, toLocalInput, fromLocalInput } from '../format.js';
import { href, replaceParams } from '../router.js';
import { getStatus } from '../status.js';
import { pager, field, select, sessionLink, pageParams } from '../widgets.js';

const GROUPS = ['TRACE_EVENTS', 'TRACE_FILES', 'TRACE_REFCNT', 'TRACE_RETVALS', 'TRACE_SESSIONS', 'TRACE_SIGNALS', 'TRACE_DESTROY', 'TRACE_PROFILE'];
const FILTERS = ['group', 'session', 'event', 'kind', 'since', 'until'];
const EXPORTS = [
  ['jsonl', 'JSON Lines', 'poe-trace.jsonl'],
  ['csv', 'CSV', 'poe-trace.csv'],
  ['chrome', 'Chrome trace (Perfetto)', 'poe-trace.chrome.json'],
  ['otlp', 'OTLP/JSON (OpenTelemetry)', 'poe-trace.otlp.jsonl'],
  ['sqlite', 'SQLite (the whole log)', 'poe-trace.db'],
];
const WAIT = 10;

export default {
  id: 'trace',
  label: 'Trace log',
  mount(root, route) {
    const p = route.params;
    const st = { ...pageParams(p), order: p.order === 'asc' ? 'asc' : 'desc', live: p.live !== '0' };
    for (const f of FILTERS) st[f] = p[f] || '';
    let dirty = true;
    let lastId = 0;
    let total = 0;

    const compiled = ((getStatus().kernel || {}).debug_compiled || GROUPS).filter((g) => g.startsWith('TRACE_'));
    const w = {
      group: select('Group', [['', 'any'], ...compiled.map((g) => [g, groupShort(g)])], { id: 'trace-group' }),
      session: field('Session id', { id: 'trace-session', inputmode: 'numeric', pattern: '[0-9]*', size: 6, autocomplete: 'off' }),
      event: field('Event', { id: 'trace-event', size: 10, autocomplete: 'off', list: 'trace-events' }),
      kind: field('Kind', { id: 'trace-kind', size: 10, autocomplete: 'off', placeholder: 'e.g. dispatch', list: 'trace-kinds' }),
      since: field('From', { id: 'trace-since', type: 'datetime-local', step: 1 }),
      until: field('To', { id: 'trace-until', type: 'datetime-local', step: 1 }),
      order: select('Order', [['desc', 'newest first'], ['asc', 'oldest first']], { id: 'trace-order' }),
    };
    function toForm() {
      for (const f of ['group', 'session', 'event', 'kind']) w[f].input.value = st[f];
      w.since.input.value = toLocalInput(Number(st.since));
      w.until.input.value = toLocalInput(Number(st.until));
      w.order.input.value = st.order;
    }
    toForm();
    // Suggestions for the exact-match filters: the names seen so far.
    const seen = { events: new Set(), kinds: new Set() };
    const lists = { events: h('datalist', { id: 'trace-events' }), kinds: h('datalist', { id: 'trace-kinds' }) };
    const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Trace filters', onsubmit: (e) => { e.preventDefault(); apply(); } },
      Object.values(w).map((x) => x.el), lists.events, lists.kinds,
      h('button', { type: 'submit' }, 'Apply'),
      h('button', { type: 'button', onclick: clear }, 'Clear'));
    w.group.input.addEventListener('change', apply);
    w.order.input.addEventListener('change', apply);

    const liveBtn = h('button', { type: 'button', id: 'live-toggle', onclick: toggleLive });
    const liveState = h('span', { class: 'live-state', id: 'live-state', role: 'status' });
    const exportsList = h('ul', { class: 'exports', id: 'exports' });
    const drops = h('p', { class: 'note warn', hidden: true, id: 'trace-drops' });
    const removed = h('p', { class: 'note', hidden: true, id: 'trace-removed' });
    const msg = note();
    const t = table('Trace records', [
      { label: 'ID', num: true }, { label: 'Time' }, { label: 'Group' }, { label: 'Kind' },
      { label: 'Session' }, { label: 'Event' }, { label: 'Lineage' }, { label: 'Message' },
    ]);
    t.table.id = 'trace-table';
    t.table.classList.add('trace');
    const pg = pager('Trace pages', ({ offset, limit }) => { st.offset = offset; st.limit = limit; changed(); });
    root.append(h('h2', null, 'Trace log'), form,
      h('div', { class: 'bar' }, h('div', { class: 'live' }, liveBtn, ' ', liveState),
        h('div', { class: 'exports-box' }, h('span', { id: 'exports-label' }, 'Download: '), exportsList)),
      drops, removed, msg.el, pg.el, t.el);
    exportsList.setAttribute('aria-labelledby', 'exports-label');

    function apply() {
      st.group = w.group.input.value;
      st.session = w.session.input.value.trim();
      st.event = w.event.input.value.trim();
      st.kind = w.kind.input.value.trim();
      st.since = fromLocalInput(w.since.input.value);
      st.until = fromLocalInput(w.until.input.value);
      st.order = w.order.input.value;
      st.offset = 0;
      changed();
    }

    function clear() {
      for (const f of FILTERS) st[f] = '';
      st.order = 'desc';
      toForm();
      st.offset = 0;
      changed();
    }

    function toggleLive() {
      st.live = !st.live;
      changed(false);
    }

    function filters() {
      const o = {};
      for (const f of FILTERS) if (st[f]) o[f] = st[f];
      return o;
    }

    // The newest page, newest first, open-ended: where new records go.
    function canTail() {
      return st.live && st.offset === 0 && st.order === 'desc' && !st.until;
    }

    function changed(reload = true) {
      const params = { ...filters(), order: st.order === 'asc' ? 'asc' : '', offset: st.offset || '',
        limit: st.limit === 100 ? '' : st.limit, live: st.live ? '' : '0' };
      replaceParams(params);
      if (reload) dirty = true;
      renderControls();
      self.restart();
    }

    function renderControls() {
      liveBtn.className = st.live ? 'on' : '';
      setText(liveBtn, st.live ? 'Pause live tail' : 'Resume live tail');
      setText(liveState, !st.live ? 'Paused.'
        : canTail() ? 'Live: new records appear at the top.'
          : 'Live tail needs the first page, newest first, with no end time.');
      const q = { ...filters(), order: st.order === 'asc' ? '' : 'desc' };
      fill(exportsList, EXPORTS.map(([fmt, label, file]) => h('li', null,
        h('a', { href: apiUrl(`export/${fmt}`, fmt === 'sqlite' ? null : q), download: file, dataset: { format: fmt } }, label))));
    }

    function row(r) {
      return h('tr', { dataset: { id: r.id } },
        h('th', { scope: 'row', class: 'num' }, String(r.id)),
        // Date, time and zone, as poe-trace prints them.
        h('td', { class: 'nowrap time' }, h('time', { datetime: new Date(r.wall * 1000).toISOString() }, stamp(r.wall))),
        td(groupShort(r.group)),
        td(r.kind || ''),
        td(sessionLink(r.session)),
        td(r.event || ''),
        // A record about a queue item leads to its lineage.
        // Any other, to the lineage of the handler it was made in.
        td(r.event_id ? h('a', { href: href('lineage', r.event_id), class: 'lineage-link',
          title: `Where event ${r.event_id} came from and what it caused` }, `#${r.event_id}`)
          : h('a', { href: href('lineage', `r${r.id}`), class: 'lineage-link muted',
            title: 'The lineage of the event whose handler made this record' }, 'handler’s')),
        td(r.message || '', 'msg'));
    }

    function suggest(recs) {
      for (const [key, field] of [['events', 'event'], ['kinds', 'kind']]) {
        const set = seen[key];
        const before = set.size;
        for (const r of recs) if (r[field] && set.size < 200) set.add(r[field]);
        if (set.size !== before) fill(lists[key], [...set].sort().map((v) => h('option', { value: v })));
      }
    }

    function showLog(tl) {
      const n = tl && tl.dropped_total;
      drops.hidden = !n;
      if (n) {
        const by = Object.entries(tl.dropped || {}).map(([g, c]) => `${groupShort(g)} ${int(c)}`).join(', ');
        setText(drops, `${int(n)} records were dropped (the ring was full or the database could not be written): ${by}.`);
      }
      // The bounds' work: the oldest records go, so the log keeps its size.
      const r = tl && tl.removed_total;
      removed.hidden = !r;
      if (r) {
        const by = Object.entries(tl.removed || {}).map(([g, c]) => `${groupShort(g)} ${int(c)}`).join(', ');
        const age = tl.max_age ? ` or older than ${duration(tl.max_age)}` : '';
        setText(removed, `${int(r)} of this run's oldest records were removed to keep the log within ${int(Math.round(tl.max_bytes / 1048576))} MiB${age}: ${by}.`);
      }
    }

    function showTotal() {
      t.caption.textContent = `Trace records${Object.keys(filters()).length ? ' (filtered)' : ''}: ${int(total)}`;
      pg.update({ offset: st.offset, limit: st.limit, total });
    }

    async function load(signal) {
      let doc;
      try {
        doc = await get('trace', { ...filters(), order: st.order, offset: st.offset, limit: st.limit }, signal);
      } catch (e) {
        if (e.status === 400 || e.status === 503) msg.set(e.message, 'error');
        throw e;
      }
      msg.set('');
      const recs = doc.data.records;
      total = doc.page.total;
      lastId = recs.reduce((m, r) => Math.max(m, r.id), 0);
      showLog(doc.trace_log);
      showTotal();
      t.setEmpty(recs.length ? '' : 'No records match.');
      syncRows(t.tbody, recs, (r) => r.id, row, (r) => r.id);
      suggest(recs);
    }

    async function tail(signal) {
      const doc = await get('trace/tail', { ...filters(), after: lastId, wait: WAIT, limit: 200 }, signal);
      const recs = doc.data.records;
      showLog(doc.trace_log);
      if (doc.page.total > recs.length) {
        // Fell behind by more than a page: jump to the newest page.
        await load(signal);
        return;
      }
      if (!recs.length) return;
      lastId = Math.max(lastId, ...recs.map((r) => r.id));
      suggest(recs);
      total += recs.length;
      for (const r of recs) {
        const tr = row(r);
        tr.dataset.key = String(r.id);
        tr._sig = r.id;
        tr.classList.add('new');
        t.tbody.insertBefore(tr, t.tbody.firstChild);
      }
      while (t.tbody.children.length > st.limit) t.tbody.lastChild.remove();
      t.setEmpty('');
      showTotal();
    }

    async function refresh(signal) {
      if (dirty) {
        await load(signal);
        dirty = false;
        return;
      }
      if (canTail()) await tail(signal);
    }

    renderControls();
    // A second between two tails batches a busy log into few requests.
    const self = { refresh, interval: 1000, kick() {}, restart() {} };
    return self;
  },
};
