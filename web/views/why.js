// Why run() has not returned: the kernel-wide summary, then the sessions
// that hold something of their own, each with its first items.
import { get } from '../api.js';
import { h, setText, table, td, num, syncRows, note } from '../dom.js';
import { int } from '../format.js';
import { replaceParams } from '../router.js';
import { pager, sessionLink, pageParams } from '../widgets.js';
import { reasonsText } from './sessions.js';

const ITEMS = 8;

function itemText(it, s = {}) {
  const name = it.name ? ` “${it.name}”` : '';
  switch (it.reason) {
    case 'timers': return `timer ${it.id}${name}`;
    case 'events to': case 'events from': return `event ${it.id}${name}`;
    case 'handles': return `fd ${it.id}${name}`;
    case 'child pids': return `pid ${it.id}`;
    case 'aliases': return `alias${name}`;
    case 'extra refs': return `tag${name}${it.file ? ` (taken at ${it.file}:${it.line})` : ''}`;
    case 'postbacks': {
      const at = (s.postbacks || []).filter((pb) => !pb.weak && pb.file).map((pb) => `${pb.file}:${pb.line}`);
      return `${it.count} postbacks${at.length ? ` (made at ${at.join(', ')})` : ''}`;
    }
    default: return `${it.reason}${name}`;
  }
}

export default {
  id: 'why',
  label: 'Why alive',
  mount(root, route) {
    const st = pageParams(route.params);
    const summary = h('p', { class: 'summary', id: 'why-summary' });
    const msg = note();
    const t = table('Sessions holding something of their own', [
      { label: 'Session' }, { label: 'Refcount', num: true }, { label: 'Held by' }, { label: 'First items' },
    ]);
    const pg = pager('Pages', ({ offset, limit }) => {
      Object.assign(st, { offset, limit });
      replaceParams({ offset: offset || '', limit: limit === 100 ? '' : limit });
      self.kick();
    });
    root.append(h('h2', null, 'Why run() has not returned'), summary, msg.el, pg.el, t.el);

    async function refresh(signal) {
      const doc = await get('why', { offset: st.offset, limit: st.limit, items: ITEMS }, signal);
      const d = doc.data;
      setText(summary, d.summary);
      msg.set('');
      t.caption.textContent = `Sessions holding something of their own: ${int(d.holding_own)} (only children: ${int(d.only_children)})`;
      pg.update(doc.page);
      t.setEmpty(d.sessions.length ? '' : 'None.');
      syncRows(t.tbody, d.sessions, (s) => s.id, (s) => h('tr', null,
        h('th', { scope: 'row' }, sessionLink(s.id, s.aliases)),
        num(s.refcount),
        td(reasonsText(s.reasons), 'small'),
        td([s.items.map((it) => itemText(it, s)).join(', '), s.items_total > s.items.length ? ` … (${int(s.items_total)} in all)` : ''], 'small')),
      (s) => JSON.stringify([s.refcount, s.reasons, s.items.map((it) => itemText(it, s)), s.items_total, s.aliases]));
    }
    const self = { refresh, kick() {} };
    return self;
  },
};
