// The event queue in dispatch order (posts, alarms, signals, ...).
import { h, td } from '../dom.js';
import { countdown, startCountdowns } from '../clock.js';
import { sessionLink } from '../widgets.js';
import { listView } from './list.js';
import { href } from '../router.js';

const TYPES = ['', 'post', 'alarm', 'signal', 'die', 'sig_child', 'gc'];

export default listView({
  id: 'queue',
  label: 'Queue',
  title: 'Event queue',
  endpoint: 'queue',
  hint: 'Events waiting to be dispatched, in dispatch order; timers are here too, as alarms.',
  filters: [
    { name: 'session', label: 'Session id (to or from)' },
    { name: 'type', label: 'Type', type: 'select', options: TYPES.map((t) => [t, t || 'any']) },
  ],
  highlight: { field: 'id', what: 'Event' },
  columns: [{ label: 'ID', num: true }, { label: 'Type' }, { label: 'Event' }, { label: 'From' }, { label: 'To' },
    { label: 'Due in', num: true }, { label: 'Args', num: true }, { label: 'Posted at' }],
  key: (e) => e.id,
  sig: (e) => `${e.id}/${e.to}/${e.from}/${e.event}/${e.due}`,
  row: (e) => h('tr', { dataset: { id: e.id } },
    // Its lineage: where it came from, from the trace log.
    h('th', { scope: 'row', class: 'num' }, h('a', { href: href('lineage', e.id), class: 'lineage-link',
      title: `Where event ${e.id} came from` }, String(e.id))),
    td(e.type),
    td(e.event),
    td(sessionLink(e.from)),
    td(sessionLink(e.to)),
    countdown(e.due, 'td'),
    h('td', { class: 'num' }, String(e.nargs)),
    td(e.file ? `${e.file.replace(/^.*\//, '')}:${e.line}` : '—', 'small')),
  after: startCountdowns,
});
