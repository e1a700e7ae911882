// Pending timers (alarms and delays) in due order, counting down here
// between two polls from their due times.
import { h, td } from '../dom.js';
import { clock } from '../format.js';
import { countdown, startCountdowns, noteServerNow } from '../clock.js';
import { sessionLink } from '../widgets.js';
import { listView } from './list.js';

export default listView({
  id: 'timers',
  label: 'Timers',
  title: 'Timers',
  endpoint: 'timers',
  hint: 'Pending alarms and delays, soonest first; the countdowns tick here between two reads.',
  filters: [{ name: 'session', label: 'Session id' }],
  highlight: { field: 'id', what: 'Timer' },
  columns: [{ label: 'Timer', num: true }, { label: 'Session' }, { label: 'Event' }, { label: 'Due' }, { label: 'Remaining', num: true }],
  key: (t) => t.id,
  sig: (t) => `${t.id}/${t.session}/${t.event}/${t.due}`,
  row: (t) => h('tr', { dataset: { id: t.id } },
    h('th', { scope: 'row', class: 'num' }, String(t.id)),
    td(sessionLink(t.session)),
    td(t.event),
    td(clock(t.due), 'nowrap'),
    countdown(t.due, 'td')),
  after(doc) {
    const t = doc.data[0];
    if (t && typeof t.remaining === 'number') noteServerNow(t.due - t.remaining);
    startCountdowns();
  },
});
