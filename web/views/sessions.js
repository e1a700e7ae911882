// The session table: the server filters (q= by id, alias or handler),
// sorts (sort=, order=: all sessions, before paging) and pages
// (offset/limit); the column buttons ask it for another order.
import { get } from '../api.js';
import { h, table, td, num, syncRows, note } from '../dom.js';
import { int, duration, dateTime } from '../format.js';
import { replaceParams } from '../router.js';
import { pager, field, sessionLink, pageParams, debounce } from '../widgets.js';

// key: the column; sort: the server's sort= for it (the columns it can
// sort all sessions by).
const COLUMNS = [
  { key: 'id', label: 'ID', sort: 'id', num: true },
  { key: 'aliases', label: 'Aliases' },
  { key: 'parent', label: 'Parent', num: true },
  { key: 'refcount', label: 'Refcount', sort: 'refcount', num: true },
  { key: 'reasons', label: 'Held by' },
  { key: 'queue', label: 'Queue', sort: 'queue', num: true },
  { key: 'n_children', label: 'Children', num: true },
  { key: 'n_handlers', label: 'Handlers', num: true },
  { key: 'events_dispatched', label: 'Events', sort: 'dispatches', num: true },
  { key: 'busy_seconds', label: 'Busy', sort: 'busy', num: true },
  { key: 'last_dispatch', label: 'Last dispatch', sort: 'last_activity' },
  { key: 'created', label: 'Created' },
];
const SORTS = new Set(COLUMNS.filter((c) => c.sort).map((c) => c.sort));

export function reasonsText(reasons) {
  return Object.entries(reasons || {})
    .filter(([k]) => k !== 'total')
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

export default {
  id: 'sessions',
  label: 'Sessions',
  mount(root, route) {
    const p = route.params;
    const st = { q: p.q || '', parent: p.parent || '', ...pageParams(p), sort: SORTS.has(p.sort) ? p.sort : '', dir: p.dir === 'desc' ? -1 : 1 };
    let rows = [];

    const q = field('Filter by id, alias or handler', { type: 'search', value: st.q, id: 'session-filter', autocomplete: 'off', placeholder: 'e.g. 3, root, tick' });
    const parent = field('Parent id', { type: 'text', inputmode: 'numeric', value: st.parent, id: 'session-parent', size: 6, pattern: '[0-9]*' });
    const form = h('form', { class: 'filters', role: 'search', onsubmit: (e) => { e.preventDefault(); apply(); } },
      q.el, parent.el, h('button', { type: 'submit' }, 'Filter'));
    const t = table('Sessions', COLUMNS.map((c) => ({ ...c, key: c.sort || c.key, sort: !!c.sort })), { onSort: sortBy });
    const pg = pager('Session pages', ({ offset, limit }) => { st.offset = offset; st.limit = limit; changed(); });
    const msg = note();
    const hint = h('p', { class: 'hint' }, 'Sorting orders all sessions (the server’s), then pages them. Busy time and the last dispatch are always kept, to a tick of the coarse clock (1-4 ms).');
    root.append(h('h2', null, 'Sessions'), form, msg.el, pg.el, t.el, hint);

    const later = debounce(apply, 300);
    q.input.addEventListener('input', later);
    parent.input.addEventListener('input', later);

    function apply() {
      const nq = q.input.value.trim();
      const np = parent.input.value.trim();
      if (nq === st.q && np === st.parent) return;
      st.q = nq;
      st.parent = np;
      st.offset = 0;
      changed();
    }

    function changed() {
      replaceParams({ q: st.q, parent: st.parent, offset: st.offset || '', limit: st.limit === 100 ? '' : st.limit, sort: st.sort, dir: st.dir < 0 ? 'desc' : '' });
      self.kick();
    }

    function sortBy(key) {
      if (!SORTS.has(key)) return;
      st.dir = st.sort === key ? -st.dir : 1;
      st.sort = key;
      st.offset = 0;
      changed();
      t.setSort(st.sort, st.dir);
    }

    function render() {
      t.setSort(st.sort, st.dir);
      syncRows(t.tbody, rows, (s) => s.id, (s) => h('tr', null,
        h('th', { scope: 'row', class: 'num' }, sessionLink(s.id)),
        td((s.aliases || []).join(', ')),
        h('td', { class: 'num' }, sessionLink(s.parent)),
        num(s.refcount),
        td(reasonsText(s.reasons), 'small'),
        num(int(s.queue)),
        num(s.n_children),
        num(s.n_handlers),
        num(int(s.events_dispatched)),
        num(duration(s.busy_seconds)),
        td(s.last_dispatch ? dateTime(s.last_dispatch) : 'never', 'nowrap'),
        td(dateTime(s.created), 'nowrap'),
      ), (s) => JSON.stringify(s));
    }

    async function refresh(signal) {
      const params = { offset: st.offset, limit: st.limit, q: st.q, parent: st.parent };
      if (st.sort) Object.assign(params, { sort: st.sort, order: st.dir < 0 ? 'desc' : 'asc' });
      let doc;
      try {
        doc = await get('sessions', params, signal);
      } catch (e) {
        if (e.status === 400) msg.set(e.message, 'error');
        throw e;
      }
      rows = doc.data;
      const page = doc.page;
      if (page.total && st.offset >= page.total) {
        // The list shrank under the page: go to its last page.
        st.offset = Math.floor((page.total - 1) / st.limit) * st.limit;
        changed();
        return;
      }
      msg.set('');
      t.caption.textContent = st.q || st.parent
        ? `Sessions matching ${[st.q && `“${st.q}”`, st.parent && `parent ${st.parent}`].filter(Boolean).join(' and ')}: ${int(page.total)}`
        : `Sessions: ${int(page.total)}`;
      pg.update(page);
      t.setEmpty(rows.length ? '' : st.q || st.parent ? 'No session matches.' : 'No sessions.');
      render();
    }

    const self = { refresh, kick() {} };
    return self;
  },
};
