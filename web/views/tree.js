// The session tree, lazily: each level is /api/v1/tree?root=ID&depth=1,
// paged (200 nodes a request, "more" for the rest).  A refresh re-reads
// one loaded page per tick, round robin, so a big tree costs one request
// per interval however much of it is open.
import { get } from '../api.js';
import { h, setText, note } from '../dom.js';
import { int } from '../format.js';
import { sessionHref } from '../router.js';

const PAGE = 200;

export default {
  id: 'tree',
  label: 'Tree',
  mount(root) {
    const expanded = new Set(); // session ids shown open
    const lists = new Map(); // parent id (0: the top) → list state
    let turn = 0;
    let autoOpened = false;
    const msg = note();
    const top = newList(0, 0);
    root.append(h('h2', null, 'Session tree'),
      h('p', { class: 'hint' }, 'Each session with its aliases and refcount; open a session to load its children.'),
      msg.el, top.el);

    function newList(parentId, level) {
      const ul = h('ul', { class: 'tree', role: level ? 'group' : null, 'aria-label': level ? null : 'Sessions by parent' });
      // Named from the start: until its first page arrives the list has
      // no count to show, and a button is never without a name.
      const more = h('button', { type: 'button', class: 'more', hidden: true, onclick: () => loadPage(list, list.pages.length).catch(report) }, 'Show more');
      const status = h('p', { class: 'tree-status', hidden: true });
      const el = h('div', { class: 'tree-list' }, ul, status, more);
      const list = { parentId, level, ul, more, status, el, pages: [], total: 0, nodes: new Map() };
      lists.set(parentId, list);
      return list;
    }

    function node(list, s) {
      let li = list.nodes.get(s.id);
      if (!li) {
        const toggle = h('button', { type: 'button', class: 'toggle', 'aria-expanded': 'false', onclick: () => flip(s.id, li) });
        const label = h('a', { href: sessionHref(s.id) });
        const meta = h('span', { class: 'meta' });
        li = h('li', { dataset: { id: s.id } }, h('div', { class: 'node' }, toggle, label, meta));
        li._toggle = toggle;
        li._label = label;
        li._meta = meta;
        li._list = list;
        list.nodes.set(s.id, li);
      }
      const aliases = (s.aliases || []).join(', ');
      setText(li._label, aliases ? `${s.id} ${aliases}` : `${s.id}`);
      setText(li._meta, `refcount ${s.refcount}` + (s.n_children ? ` · ${int(s.n_children)} ${s.n_children === 1 ? 'child' : 'children'}` : ''));
      li._toggle.hidden = !s.n_children && !expanded.has(s.id);
      li._toggle.setAttribute('aria-label', `${expanded.has(s.id) ? 'Close' : 'Open'} session ${s.id}'s children`);
      return li;
    }

    async function flip(id, li) {
      const open = !expanded.has(id);
      li._toggle.setAttribute('aria-expanded', String(open));
      li._toggle.setAttribute('aria-label', `${open ? 'Close' : 'Open'} session ${id}'s children`);
      if (!open) {
        expanded.delete(id);
        dropList(id);
        return;
      }
      expanded.add(id);
      const list = newList(id, li._list.level + 1);
      li.append(list.el);
      try {
        await loadPage(list, 0);
      } catch (e) {
        report(e);
      }
    }

    function dropList(id) {
      const list = lists.get(id);
      if (!list) return;
      for (const childId of list.nodes.keys()) if (expanded.has(childId)) { expanded.delete(childId); dropList(childId); }
      list.el.remove();
      lists.delete(id);
    }

    async function loadPage(list, pageNo, signal) {
      const params = { depth: 1, offset: pageNo * PAGE, limit: PAGE };
      if (list.parentId) params.root = list.parentId;
      const doc = await get('tree', params, signal);
      if (!lists.has(list.parentId)) return; // closed meanwhile
      list.pages[pageNo] = doc.data.map((s) => s.id);
      list.total = doc.page.total;
      // Keep pages contiguous: a shrunk list drops the pages past its end.
      list.pages.length = Math.min(list.pages.length, Math.max(1, Math.ceil(list.total / PAGE)));
      const seen = new Set(list.pages.flat());
      for (const s of doc.data) node(list, s);
      for (const [id, li] of list.nodes) if (!seen.has(id)) { li.remove(); list.nodes.delete(id); if (expanded.has(id)) { expanded.delete(id); dropList(id); } }
      // Place the nodes in order, moving only those out of place.
      let i = 0;
      for (const id of list.pages.flat()) {
        const li = list.nodes.get(id);
        if (!li) continue;
        const at = list.ul.children[i];
        if (at !== li) list.ul.insertBefore(li, at || null);
        i++;
      }
      const shown = list.pages.flat().length;
      list.more.hidden = shown >= list.total;
      setText(list.more, `Show more (${int(shown)} of ${int(list.total)} shown)`);
      list.status.hidden = list.total > 0;
      // A lone top session (the usual root) opens by itself, once.
      if (!list.parentId && !autoOpened && list.total === 1) {
        autoOpened = true;
        const li = list.nodes.get(list.pages[0][0]);
        if (li && !li._toggle.hidden && !expanded.has(list.pages[0][0])) flip(list.pages[0][0], li);
      }
      setText(list.status, list.parentId ? 'No children.' : 'No sessions.');
      msg.set('');
    }

    function report(e) {
      if (e.kind !== 'abort') msg.set(`Could not load the tree: ${e.message}`, 'error');
    }

    async function refresh(signal) {
      // Every loaded page of every open list, one per tick.
      const work = [];
      for (const list of lists.values()) {
        const n = Math.max(1, list.pages.length);
        for (let p = 0; p < n; p++) work.push([list, p]);
      }
      const [list, p] = work[turn++ % work.length];
      await loadPage(list, p, signal);
    }

    return { refresh, interval: 2000 };
  },
};
