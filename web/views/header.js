// The kernel header: the summary from /api/v1/kernel every second, the
// event rate from the events_dispatched deltas, and the banners: busy
// (a 503 that names the session and event), disconnected (retrying),
// and read-only.
import { get } from '../api.js';
import { h, fill, setText } from '../dom.js';
import { int, duration, groupShort, hms } from '../format.js';
import { Poller } from '../poller.js';
import { getStatus, setStatus, subscribe } from '../status.js';
import { sessionLink } from '../widgets.js';
import { href } from '../router.js';
import { noteServerNow } from '../clock.js';

const FIELDS = [
  ['pid', 'PID'],
  ['uptime', 'Uptime'],
  ['loop', 'Loop'],
  ['sessions', 'Sessions'],
  ['queue', 'Queue'],
  ['timers', 'Timers'],
  ['rate', 'Event rate'],
  ['events', 'Events'],
  ['recording', 'Recording'],
  ['groups', 'Printing'],
  ['dropped', 'Trace drops'],
  ['otlp', 'OTLP push'],
  ['state', 'State'],
];

export function mountHeader(statsEl, bannersEl) {
  const dd = {};
  fill(statsEl, FIELDS.map(([k, label]) => h('div', { class: 'stat', dataset: { field: k } },
    h('dt', null, label), (dd[k] = h('dd', null, '—')))));
  dd.otlp.parentNode.hidden = true; // until the kernel says there is a push

  const busy = h('div', { class: 'banner busy', id: 'busy-banner', hidden: true });
  const conn = h('div', { class: 'banner down', id: 'conn-banner', hidden: true });
  const access = h('p', { class: 'access', id: 'access' });
  fill(bannersEl, conn, busy, access);

  let prev = null; // {pid, events, now}
  let rate = null;

  async function poll(signal) {
    let doc;
    try {
      doc = await get('kernel', null, signal);
    } catch (e) {
      if (e.kind === 'network') setStatus({ retryAt: Date.now() + nextDelay() });
      throw e;
    }
    const k = doc.data;
    // Stuck: the banner says where (api.js); the fields keep the last
    // values the kernel gave, but its state says it is stuck.
    if (k.responding === false) {
      const b = k.busy || {};
      setStatus({ kernel: { ...(getStatus().kernel || {}), answer_timeout_ms: k.answer_timeout_ms } });
      setText(dd.state, b.dispatching ? `stuck in session ${b.session}, “${b.event || '?'}”` : 'not answering (outside any handler)');
      return;
    }
    noteServerNow(k.now);
    if (prev && prev.pid === k.pid && k.now > prev.now) {
      rate = (k.events_dispatched - prev.events) / (k.now - prev.now);
    } else if (prev && prev.pid !== k.pid) {
      rate = null;
    }
    prev = { pid: k.pid, events: k.events_dispatched, now: k.now };
    setStatus({ kernel: k, serverReadOnly: !!k.read_only || getStatus().token === 'refused', retryAt: 0 });
    render(k);
  }

  const poller = new Poller(poll, 1000, { probe: true, maxBackoff: 8000 });
  function nextDelay() {
    return Math.min(1000 * 2 ** (poller.failures + 1), 8000);
  }

  function render(k) {
    setText(dd.pid, k.pid);
    setText(dd.uptime, duration(k.uptime));
    setText(dd.loop, k.loop || '—');
    setText(dd.sessions, int(k.sessions));
    setText(dd.queue, int(k.queue_length));
    setText(dd.timers, int(k.timers));
    setText(dd.rate, rate === null ? '—' : `${rate < 10 ? rate.toFixed(1) : int(Math.round(rate))} /s`);
    setText(dd.events, int(k.events_dispatched));
    // What the trace log records (its own groups and any switched on),
    // and what goes to the text lines on stderr.
    const on = (k.debug_enabled || []).filter((g) => g.startsWith('TRACE_')).map(groupShort);
    setText(dd.groups, on.length ? on.join(', ') : 'none');
    dd.groups.title = 'trace groups printed as text lines (POE_TRACE_* / the switches below)';
    const tl = k.trace_log || {};
    const rec = Array.isArray(tl.groups) ? tl.groups.map(groupShort) : null;
    setText(dd.recording, rec === null ? 'no trace log' : rec.length ? rec.join(', ') : 'none');
    dd.recording.title = rec === null ? (tl.error || '') : 'trace groups the trace log records';
    const drops = Object.entries(tl.dropped || {}).map(([g, n]) => `${groupShort(g)} ${int(n)}`).join(', ');
    setText(dd.dropped, tl.error && !('dropped_total' in tl) ? 'no trace log' : int(tl.dropped_total || 0) + (drops ? ` (${drops})` : ''));
    dd.dropped.title = tl.error || '';
    // The live OTLP push, when OTEL_EXPORTER_OTLP_ENDPOINT asked for one:
    // spans sent, waiting, dropped (queue full, or left at the stop) and
    // failed (refused, or out of retries); the endpoint and the last
    // error in its title.
    const op = k.otlp_push;
    dd.otlp.parentNode.hidden = !op;
    if (op && op.error) {
      setText(dd.otlp, 'not started');
      dd.otlp.title = op.error;
    } else if (op) {
      setText(dd.otlp, `${int(op.sent_spans)} sent, ${int(op.queued_spans)} queued, ` +
        `${int(op.dropped_spans)} dropped, ${int(op.failed_spans)} failed` +
        (op.state === 'backoff' ? ' (retrying)' : ''));
      dd.otlp.title = `spans to ${op.endpoint}` + (op.last_error ? ` — last error: ${op.last_error}` : '');
    }
    const st = !k.running ? 'not running' : k.dispatching ? `in session ${k.active_session}, ${k.active_event || '?'}` : 'running';
    setText(dd.state, st);
  }

  // Banners and the read-only line follow the status; times tick here.
  function renderStatus() {
    const s = getStatus();
    conn.hidden = s.connected;
    if (!s.connected) {
      const secs = Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000));
      const since = s.downSince ? hms(s.downSince / 1000) : null;
      const retry = ` Retrying${s.retryAt ? ` in ${secs} s` : ''}…`;
      // A frozen program (SIGSTOP) takes the connection and never
      // answers; a gone one refuses it.
      setText(conn, s.down === 'timeout'
        ? `Not responding since ${since}: the program takes the connection but does not answer (frozen, stopped with SIGSTOP, or overloaded).${retry}`
        : `Disconnected: the inspector does not answer${since ? ` (nothing since ${since})` : ''}.${retry}`);
      // Its state is unknown: not "running".
      setText(dd.state, since ? `Not responding since ${since}` : 'Not responding');
    }
    const b = s.busy;
    busy.hidden = !b || !s.connected;
    if (b && s.connected) {
      const t = (b.for_seconds || 0) + (Date.now() - b.at) / 1000;
      if (b.dispatching) {
        const want = `s${b.session}e${b.event}`;
        if (busy.dataset.what !== want) {
          busy.dataset.what = want;
          fill(busy, 'Kernel busy: in session ', sessionLink(b.session), ' / event “', b.event || '?', '” for ',
            h('span', { class: 'busy-time' }, ''), '. The views show the last answers until it comes back.');
        }
        setText(busy.querySelector('.busy-time'), `${t.toFixed(1)} s`);
      } else {
        busy.dataset.what = '';
        fill(busy, 'Kernel busy: it did not answer in time and is not in a handler (not running its loop?).');
      }
    }
    let msg;
    if (s.serverReadOnly) msg = 'Read-only: this inspector was started without a token, so nothing can be changed from here.';
    else if (s.token === 'none') msg = 'Read-only: no token entered. Enter one under Control to switch trace groups and send signals.';
    else if (s.token === 'rejected') msg = 'Read-only: the server did not accept the token (401). Enter it again under Control.';
    else if (s.token === 'unverified') msg = 'Token set (not checked yet).';
    else msg = 'Token accepted: trace groups and signals can be changed.';
    const ro = msg.startsWith('Read-only');
    access.className = 'access' + (ro ? ' ro' : ' rw');
    if (access.dataset.msg !== msg) {
      access.dataset.msg = msg;
      fill(access, msg + ' ', s.serverReadOnly ? null : h('a', { href: href('control') }, ro ? 'Enter a token' : 'Control'));
    }
  }
  subscribe(renderStatus);
  setInterval(renderStatus, 250);
  renderStatus();
  poller.start();
  return poller;
}
