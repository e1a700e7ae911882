// The session table: the server filters (q= by id, alias or handler) and
// pages (offset/limit); the column buttons sort the rows of the page.
import { get } from '../api.js';
import { h, table, td, num, syncRows, note } from '../dom.js';
import { int, duration, dateTime } from '../format.js';
import { replaceParams } from '../router.js';
import { pager, field, sessionLink, pageParams, debounce } from '../widgets.js';

const COLUMNS = [
  { key: 'id', label: 'ID', sort: true, num: true },
  { key: 'aliases', label: 'Aliases', sort: true },
  { key: 'parent', label: 'Parent', sort: true, num: true },
  { key: 'refcount', label: 'Refcount', sort: true, num: true },
  { key: 'reasons', label: 'Held by' },
  { key: 'n_children', label: 'Children', sort: true, num: true },
  { key: 'n_handlers', label: 'Handlers', sort: true, num: true },
  { key: 'events_dispatched', label: 'Events', sort: true, num: true },
  { key: 'busy_seconds', label: 'Busy', sort: true, num: true },
  { key: 'created', label: 'Created', sort: true },
];

export function reasonsText(reasons) {
  return Object.entries(reasons || {})
    .filter(([k]) => k !== 'total')
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

function sortValue(s, key) {
  if (key === 'aliases') return (s.aliases || []).join(',');
  return s[key] ?? 0;
}

export default {
  id: 'sessions',
  label: 'Sessions',
  mount(root, route) {
    const p = route.params;
    const st = { q: p.q || '', parent: p.parent || '', ...pageParams(p), sort: p.sort || '', dir: p.dir === 'desc' ? -1 : 1 };
    let rows = [];

    const q = field('Filter by id, alias or handler', { type: 'search', value: st.q, id: 'session-filter', autocomplete: 'off', placeholder: 'e.g. 3, root, tick' });
    const parent = field('Parent id', { type: 'text', inputmode: 'numeric', value: st.parent, id: 'session-parent', size: 6, pattern: '[0-9]*' });
    const form = h('form', { class: 'filters', role: 'search', onsubmit: (e) => { e.preventDefault(); apply(); } },
      q.el, parent.el, h('button', { type: 'submit' }, 'Filter'));
    const t = table('Sessions', COLUMNS, { onSort: sortBy });
    const pg = pager('Session pages', ({ offset, limit }) => { st.offset = offset; st.limit = limit; changed(); });
    const msg = note();
    const hint = h('p', { class: 'hint' }, 'Sorting orders the rows of this page; the filter and the pages are the server’s.');
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
      st.dir = st.sort === key ? -st.dir : 1;
      st.sort = key;
      changed();
      render();
    }

    function render() {
      let list = rows;
      if (st.sort) {
        list = [...rows].sort((a, b) => {
          const x = sortValue(a, st.sort), y = sortValue(b, st.sort);
          return (x < y ? -1 : x > y ? 1 : a.id - b.id) * st.dir;
        });
      }
      t.setSort(st.sort, st.dir);
      syncRows(t.tbody, list, (s) => s.id, (s) => h('tr', null,
        h('th', { scope: 'row', class: 'num' }, sessionLink(s.id)),
        td((s.aliases || []).join(', ')),
        h('td', { class: 'num' }, sessionLink(s.parent)),
        num(s.refcount),
        td(reasonsText(s.reasons), 'small'),
        num(s.n_children),
        num(s.n_handlers),
        num(int(s.events_dispatched)),
        num(duration(s.busy_seconds)),
        td(dateTime(s.created), 'nowrap'),
      ));
    }

    async function refresh(signal) {
      const params = { offset: st.offset, limit: st.limit, q: st.q, parent: st.parent };
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
