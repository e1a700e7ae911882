// Lineage of one queue item (#/lineage/ID): the chain of posts that led
// to it, from the root down (/api/v1/events/ID/lineage's ancestors), the
// item itself, and what its dispatch caused, as a tree bounded in depth
// and nodes.  Reached from a trace record's event id and from the queue.
import { get } from '../api.js';
import { h, fill, setText, note } from '../dom.js';
import { int, stamp } from '../format.js';
import { href, replaceParams } from '../router.js';
import { sessionLink, field } from '../widgets.js';

const STATES = {
  dispatched: 'dispatched',
  pending: 'still queued',
  discarded: 'discarded (its session went)',
  unknown: 'not dispatched as far as the log reads',
};

// One node: "#12 “tick” to session 3 from session 1, timer, dispatched at ..."
function nodeLine(n, self) {
  const id = self
    ? h('strong', null, `#${n.event_id}`)
    : h('a', { href: href('lineage', n.event_id), class: 'lineage-node' }, `#${n.event_id}`);
  if (!n.enqueue) return [id, ' (its enqueue is not in the log)'];
  return [id, ' ', h('code', null, `“${n.event}”`), ' to ', sessionLink(n.session),
    n.timer ? ' (a timer)' : [' from ', sessionLink(n.sender)],
    `, posted ${stamp(n.enqueue.wall)}`,
    h('span', { class: `state-${n.state}` }, `, ${STATES[n.state] || n.state}`),
    n.dispatch ? ` ${stamp(n.dispatch.wall)}` : ''];
}

function tree(nodes) {
  if (!nodes || !nodes.length) return null;
  return h('ul', { class: 'lineage-tree' }, nodes.map((n) =>
    h('li', { dataset: { id: n.event_id } }, h('span', null, nodeLine(n, false)), tree(n.children))));
}

function count(n) {
  return 1 + (n.children || []).reduce((a, c) => a + count(c), 0);
}

export default {
  id: 'lineage',
  label: 'Lineage',
  mount(root, route) {
    // #/lineage/ID: queue item ID; #/lineage/rID: the one trace record
    // ID belongs to (its event id, or the dispatch it was made in).
    const rec = /^r\d+$/.test(route.arg) ? route.arg.slice(1) : '';
    const id = /^\d+$/.test(route.arg) ? route.arg : rec;
    const input = field('Event id', { id: 'lineage-id', inputmode: 'numeric', pattern: '[0-9]*', size: 8, autocomplete: 'off' });
    input.input.value = rec ? '' : id;
    const form = h('form', { class: 'filters', onsubmit: (e) => {
      e.preventDefault();
      const v = input.input.value.trim();
      if (/^\d+$/.test(v)) location.hash = href('lineage', v);
    } }, input.el, h('button', { type: 'submit' }, 'Show'));
    root.append(h('h2', null, rec ? `Lineage of trace record ${rec}` : id ? `Lineage of event ${id}` : 'Lineage'),
      h('p', { class: 'hint' }, 'Where a queued event came from (the posts that led to it, from the first) and what its handler caused, from the trace log. Open it from a trace record’s event id or from the queue.'),
      form);
    if (!id) return {};
    const depth = Math.min(16, Math.max(0, parseInt(route.params.depth, 10) || 3));
    const msg = note();
    const via = h('p', { class: 'hint', id: 'lineage-via', hidden: true });
    const up = h('ol', { class: 'lineage-up', id: 'lineage-ancestors' });
    const self = h('p', { class: 'lineage-self', id: 'lineage-self' });
    const down = h('div', { id: 'lineage-descendants' });
    const cut = h('p', { class: 'note warn', id: 'lineage-truncated', hidden: true });
    root.append(msg.el, via,
      h('section', { 'aria-labelledby': 'lin-up-h' }, h('h3', { id: 'lin-up-h' }, 'Caused by'), up),
      h('section', { 'aria-labelledby': 'lin-self-h' }, h('h3', { id: 'lin-self-h' }, 'The event'), self),
      h('section', { 'aria-labelledby': 'lin-down-h' }, h('h3', { id: 'lin-down-h' }, 'What it caused'), cut, down));
    let sig = '';

    async function refresh(signal) {
      let doc;
      try {
        doc = await get(rec ? `trace/records/${rec}/lineage` : `events/${id}/lineage`, { depth, limit: 100 }, signal);
      } catch (e) {
        if (e.status === 404 || e.status === 400) {
          msg.set(e.message, 'error');
          fill(up);
          fill(self);
          fill(down);
          return;
        }
        throw e;
      }
      const d = doc.data;
      via.hidden = !rec;
      if (rec) fill(via, `Record ${rec} belongs to event `, h('a', { href: href('lineage', d.event_id) }, `#${d.event_id}`), ` (by ${d.via}).`);
      const s = JSON.stringify([d.ancestors.map((a) => [a.event_id, a.state]), d.nodes, d.truncated, d.event.state]);
      if (s === sig) return;
      sig = s;
      msg.set('');
      // Root first, down to the event.
      const chain = [...d.ancestors].reverse();
      fill(up, chain.length
        ? [h('li', { class: 'root-note' }, `The root: ${d.root || 'the start of the log'}.`),
          chain.map((a) => h('li', { dataset: { id: a.event_id } }, nodeLine(a, false)))]
        : h('li', { class: 'root-note' }, `Nothing: ${d.root || 'a root'}.`));
      fill(self, nodeLine(d.event, true));
      const kids = d.event.children || [];
      fill(down, kids.length ? tree(kids) : h('p', { class: 'muted' },
        d.event.state === 'dispatched' ? 'Its handler posted nothing.' : 'Not dispatched yet.'));
      cut.hidden = !d.truncated;
      if (d.truncated) {
        fill(cut, `Cut short: ${int(count(d.event) - 1)} events shown, ${d.depth} levels down, at most ${int(d.limit)} in all. `,
          depth < 16 ? h('a', { href: href('lineage', route.arg, { depth: Math.min(16, depth + 3) }) }, 'Show deeper') : null);
      }
      replaceParams(depth === 3 ? {} : { depth });
    }

    return { refresh, interval: 5000 };
  },
};
