// Watched file descriptors: fd, mode, session, event, paused.
import { h, td } from '../dom.js';
import { sessionLink } from '../widgets.js';
import { listView } from './list.js';

export default listView({
  id: 'io',
  label: 'I/O',
  title: 'I/O watchers',
  endpoint: 'watchers',
  hint: 'File descriptors the kernel watches, by fd then mode.',
  filters: [{ name: 'session', label: 'Session id' }],
  highlight: { field: 'fd', what: 'fd' },
  columns: [{ label: 'fd', num: true }, { label: 'Mode' }, { label: 'Session' }, { label: 'Event' }, { label: 'State' }],
  key: (w) => `${w.fd}/${w.mode}`,
  row: (w) => h('tr', null,
    h('th', { scope: 'row', class: 'num' }, String(w.fd)),
    td(w.mode),
    td(sessionLink(w.session, w.session_aliases)),
    td(w.event),
    td(w.paused ? 'paused' : 'watching')),
});
