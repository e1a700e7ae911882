// Lints (/lints): what looks wrong, as tokio-console flags it: each
// finding's kind, session, since when and evidence, the count of each
// kind (the same as /metrics' poe_lints), and the thresholds, which the
// form overrides for this view (the server's, per request).
import { get } from '../api.js';
import { h, fill, table, td, syncRows, note } from '../dom.js';
import { int, dateTime, duration } from '../format.js';
import { replaceParams } from '../router.js';
import { pager, field, select, sessionLink, pageParams, debounce } from '../widgets.js';

const KINDS = [
  ['idle_held', 'Idle, held only by aliases or extra references'],
  ['slow_handler', 'Slow handler'],
  ['queue_grows', 'Queue only grows'],
  ['timers_grow', 'Timers only grow'],
  ['postback_unused', 'Postback never invoked'],
  ['timer_in_past', 'Timers set in the past'],
];
const KIND_LABEL = Object.fromEntries(KINDS);
const THRESHOLDS = [
  ['idle', 'Idle for (s)'], ['slow', 'Slow from (s)'], ['grow', 'Growing for (s)'],
  ['postback', 'Postback unused for (s)'], ['past', 'Timers in the past (count)'],
];

export default {
  id: 'lints',
  label: 'Lints',
  mount(root, route) {
    const p = route.params;
    const st = { ...pageParams(p), kind: KIND_LABEL[p.kind] ? p.kind : '' };
    const inputs = {};
    for (const [name] of THRESHOLDS) st[name] = p[name] || '';
    const kind = select('Kind', [['', 'All kinds'], ...KINDS], { id: 'lints-kind' });
    kind.input.value = st.kind;
    kind.input.addEventListener('change', apply);
    const later = debounce(apply, 500);
    const fields = THRESHOLDS.map(([name, label]) => {
      const f = field(label, { id: `lints-${name}`, inputmode: 'decimal', size: 5, autocomplete: 'off', value: st[name] });
      inputs[name] = f.input;
      f.input.addEventListener('input', later);
      return f.el;
    });
    const form = h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); apply(); } },
      kind.el, fields, h('button', { type: 'submit' }, 'Apply'));
    const counts = h('p', { class: 'summary', id: 'lints-counts' });
    const msg = note();
    const t = table('Lints', [{ label: 'Kind' }, { label: 'Session' }, { label: 'Since' }, { label: 'For', num: true }, { label: 'Evidence' }]);
    t.table.id = 'lints-table';
    const pg = pager('Lint pages', ({ offset, limit }) => { st.offset = offset; st.limit = limit; changed(); });
    root.append(h('h2', null, 'Lints'),
      h('p', { class: 'hint' }, 'What looks wrong in the live program, in the spirit of tokio-console’s lints. Empty thresholds are the inspector’s (POE_INSPECTOR_LINTS); growth is judged from samples each read of this view (or of /metrics) takes, at most one a second.'),
      form, msg.el, counts, pg.el, t.el);

    function apply() {
      let diff = kind.input.value !== st.kind;
      st.kind = kind.input.value;
      for (const [name, input] of Object.entries(inputs)) {
        const v = input.value.trim();
        if (v !== st[name]) { st[name] = v; diff = true; }
      }
      if (!diff) return;
      st.offset = 0;
      changed();
    }

    function changed() {
      const params = { kind: st.kind, offset: st.offset || '', limit: st.limit === 100 ? '' : st.limit };
      for (const [name] of THRESHOLDS) params[name] = st[name];
      replaceParams(params);
      self.kick();
    }

    async function refresh(signal) {
      const params = { offset: st.offset, limit: st.limit, kind: st.kind };
      for (const [name] of THRESHOLDS) if (st[name]) params[name] = st[name];
      let doc;
      try {
        doc = await get('lints', params, signal);
      } catch (e) {
        if (e.status === 400) msg.set(e.message, 'error');
        throw e;
      }
      msg.set('');
      const d = doc.data;
      const now = Date.now() / 1000;
      fill(counts, KINDS.map(([k, label], i) => [i ? ' · ' : '',
        h('span', { class: d.counts[k] ? 'bad' : 'muted', dataset: { kind: k } }, `${label}: ${int(d.counts[k])}`)]));
      for (const [name] of THRESHOLDS) inputs[name].placeholder = String(d.thresholds[name]);
      const total = Object.values(d.counts).reduce((a, b) => a + b, 0);
      t.caption.textContent = `Lints${st.kind ? ` (${KIND_LABEL[st.kind]})` : ''}: ${int(doc.page.total)}`;
      pg.update(doc.page);
      t.setEmpty(d.lints.length ? '' : total ? 'None of this kind.' : 'Nothing looks wrong.');
      syncRows(t.tbody, d.lints, (x) => `${x.kind}/${x.session}`, (x) => h('tr', { class: 'lint', dataset: { kind: x.kind, session: x.session } },
        td(KIND_LABEL[x.kind] || x.kind),
        h('th', { scope: 'row' }, sessionLink(x.session, x.aliases)),
        td(dateTime(x.since), 'nowrap'),
        td(duration(now - x.since), 'num'),
        td(x.evidence, 'evidence')),
      (x) => JSON.stringify([x.evidence, x.since, x.aliases]));
    }

    const self = { refresh, kick() {} };
    return self;
  },
};
