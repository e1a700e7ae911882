// Signal watchers (by signal, then session) and awaited child pids.
import { h, td } from '../dom.js';
import { sessionLink } from '../widgets.js';
import { listView } from './list.js';

export default listView({
  id: 'signals',
  label: 'Signals',
  title: 'Signal watchers',
  endpoint: 'signals',
  hint: 'Sessions watching signals, then the child processes awaited (CHLD with a pid).',
  filters: [{ name: 'session', label: 'Session id' }],
  highlight: { field: 'pid', what: 'pid' },
  columns: [{ label: 'Signal' }, { label: 'pid', num: true }, { label: 'Session' }, { label: 'Event' }],
  key: (s) => `${s.signal}/${s.pid || ''}/${s.session}`,
  row: (s) => h('tr', null,
    h('th', { scope: 'row' }, s.signal),
    h('td', { class: 'num' }, s.pid ? String(s.pid) : '—'),
    td(sessionLink(s.session, s.session_aliases)),
    td(s.event)),
});
