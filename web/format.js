// Numbers, times and names as the page shows them.

export function int(n) {
  if (n === null || n === undefined) return '—';
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

// 0.25 → "0.250 s", 75 → "1 min 15 s", 7300 → "2 h 1 min"
export function duration(sec) {
  if (sec === null || sec === undefined || !isFinite(sec)) return '—';
  const s = Math.abs(sec);
  const sign = sec < 0 ? '−' : '';
  if (s < 1) return sign + s.toFixed(3) + ' s';
  if (s < 60) return sign + s.toFixed(1) + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return `${sign}${m} min ${Math.floor(s % 60)} s`;
  const hr = Math.floor(m / 60);
  if (hr < 48) return `${sign}${hr} h ${m % 60} min`;
  return `${sign}${Math.floor(hr / 24)} d ${hr % 24} h`;
}

// A countdown: "12.3 s", "1 min 05 s", or "due" once it has passed.
export function remaining(sec) {
  if (sec === null || sec === undefined || !isFinite(sec)) return '—';
  if (sec <= 0) return 'due';
  if (sec < 10) return sec.toFixed(2) + ' s';
  if (sec < 60) return sec.toFixed(1) + ' s';
  const m = Math.floor(sec / 60);
  const s = Math.floor(sec % 60);
  return `${m} min ${String(s).padStart(2, '0')} s`;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

// Epoch seconds as local wall-clock time, to the millisecond.
export function clock(epoch) {
  if (!epoch) return '—';
  const d = new Date(epoch * 1000);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

// Epoch seconds as local HH:MM:SS.
export function hms(epoch) {
  if (!epoch) return '—';
  const d = new Date(epoch * 1000);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// The local time zone's offset at that time: "+01:00", "-05:30".
export function zone(epoch) {
  const off = -new Date(epoch * 1000).getTimezoneOffset();
  const a = Math.abs(off);
  return `${off < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

// Epoch seconds as a full local timestamp with date and zone, as
// poe-trace prints them: "2026-12-06T20:30:01.123+01:00".
export function stamp(epoch) {
  if (!epoch) return '—';
  const d = new Date(epoch * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${clock(epoch)}${zone(epoch)}`;
}

export function dateTime(epoch) {
  if (!epoch) return '—';
  const d = new Date(epoch * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(epoch)}`;
}

// For <input type="datetime-local" step="1">: local time without zone.
export function toLocalInput(epoch) {
  if (!epoch) return '';
  const d = new Date(epoch * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fromLocalInput(v) {
  if (!v) return '';
  const t = new Date(v).getTime();
  return isFinite(t) ? String(t / 1000) : '';
}

// "TRACE_EVENTS" → "events"
export function groupShort(name) {
  return String(name || '').replace(/^TRACE_/, '').toLowerCase();
}

// "3 (leaf)" or "3"
export function sessionName(id, aliases) {
  return aliases && aliases.length ? `${id} (${aliases.join(', ')})` : String(id);
}
