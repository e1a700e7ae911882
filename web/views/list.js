// A paged list of one live resource (timers, watchers, signals, the
// queue): a filter form, the server's paging, one request per tick, and
// an optional highlighted row (a link from a session's reasons).
import { get } from '../api.js';
import { h, table, syncRows, note } from '../dom.js';
import { int } from '../format.js';
import { replaceParams } from '../router.js';
import { pager, field, select, pageParams, debounce } from '../widgets.js';

/*
 * cfg: {id, label, title, endpoint, hint, columns, key(item), row(item),
 *       sig?(item), filters: [{name, label, type: 'session'|'select', options}],
 *       highlight?: {field, what}, after?(doc)}
 */
export function listView(cfg) {
  return {
    id: cfg.id,
    label: cfg.label,
    mount(root, route) {
      const p = route.params;
      const st = { ...pageParams(p), highlight: p.highlight || '' };
      const inputs = {};
      const later = debounce(() => apply(), 400);
      const fields = (cfg.filters || []).map((f) => {
        st[f.name] = p[f.name] || '';
        const w = f.type === 'select'
          ? select(f.label, f.options, { id: `${cfg.id}-${f.name}` })
          : field(f.label, { id: `${cfg.id}-${f.name}`, inputmode: 'numeric', pattern: '[0-9]*', size: 6, autocomplete: 'off' });
        w.input.value = st[f.name];
        inputs[f.name] = w.input;
        w.input.addEventListener(f.type === 'select' ? 'change' : 'input', f.type === 'select' ? apply : later);
        return w.el;
      });
      const form = h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); apply(); } },
        fields, fields.length ? h('button', { type: 'submit' }, 'Filter') : null);
      const t = table(cfg.title, cfg.columns);
      t.table.id = `${cfg.id}-table`;
      const pg = pager(`${cfg.title} pages`, ({ offset, limit }) => { st.offset = offset; st.limit = limit; changed(); });
      const msg = note();
      const hl = h('p', { class: 'hint', hidden: true });
      root.append(h('h2', null, cfg.title), cfg.hint ? h('p', { class: 'hint' }, cfg.hint) : null,
        fields.length ? form : null, msg.el, hl, pg.el, t.el);
      let scrolled = false;

      function apply() {
        let diff = false;
        for (const [name, input] of Object.entries(inputs)) {
          const v = input.value.trim();
          if (v !== st[name]) { st[name] = v; diff = true; }
        }
        if (!diff) return;
        st.offset = 0;
        changed();
      }

      function changed() {
        const params = { offset: st.offset || '', limit: st.limit === 100 ? '' : st.limit, highlight: st.highlight };
        for (const name of Object.keys(inputs)) params[name] = st[name];
        replaceParams(params);
        self.kick();
      }

      async function refresh(signal) {
        const params = { offset: st.offset, limit: st.limit };
        for (const name of Object.keys(inputs)) params[name] = st[name];
        let doc;
        try {
          doc = await get(cfg.endpoint, params, signal);
        } catch (e) {
          if (e.status === 400) msg.set(e.message, 'error');
          throw e;
        }
        msg.set('');
        if (cfg.after) cfg.after(doc);
        const filtered = Object.keys(inputs).some((n) => st[n]);
        t.caption.textContent = `${cfg.title}${filtered ? ' (filtered)' : ''}: ${int(doc.page.total)}`;
        pg.update(doc.page);
        t.setEmpty(doc.data.length ? '' : filtered ? 'Nothing matches.' : 'None.');
        syncRows(t.tbody, doc.data, cfg.key, (item) => {
          const tr = cfg.row(item);
          if (cfg.highlight && st.highlight && String(item[cfg.highlight.field]) === st.highlight) tr.className += ' hl';
          return tr;
        }, cfg.sig);
        if (cfg.highlight && st.highlight) {
          const row = t.tbody.querySelector('tr.hl');
          hl.hidden = false;
          hl.textContent = row
            ? `Highlighted: ${cfg.highlight.what} ${st.highlight}.`
            : `${cfg.highlight.what} ${st.highlight} is not on this page: it has gone (fired, dispatched or removed) or is on another page.`;
          if (row && !scrolled) {
            scrolled = true;
            row.scrollIntoView({ block: 'nearest' });
          }
        }
      }

      const self = { refresh, kick() {}, destroy: cfg.destroy };
      return self;
    },
  };
}
