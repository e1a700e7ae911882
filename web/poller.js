// Polling without storms: one request at a time per poller, the next one
// scheduled after the last answer; nothing while the tab is hidden or the
// inspector unreachable (the header's poller alone probes it); longer
// waits after errors.
import { getStatus, subscribe } from './status.js';
import { isAbort } from './api.js';

const pollers = new Set();

export class Poller {
  // fn(signal) makes the requests; interval in ms.  probe: runs while
  // disconnected (the one poller that finds the server again).
  constructor(fn, interval, { probe = false, maxBackoff = 10000, busyBackoff = 3000 } = {}) {
    this.fn = fn;
    this.interval = interval;
    this.probe = probe;
    this.maxBackoff = maxBackoff;
    this.busyBackoff = busyBackoff;
    this.failures = 0;
    this.timer = null;
    this.running = false;
    this.again = false;
    this.stopped = true;
    this.parked = false;
    this.nextAt = 0;
    this.ctrl = null;
  }

  start() {
    this.stopped = false;
    pollers.add(this);
    this.kick();
    return this;
  }

  stop() {
    this.stopped = true;
    pollers.delete(this);
    clearTimeout(this.timer);
    this.timer = null;
    if (this.ctrl) this.ctrl.abort();
  }

  // Run now (a filter changed): after the request in flight, if any.
  kick() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = null;
    if (this.running) {
      this.again = true;
      return;
    }
    this.run();
  }

  // Drop the request in flight (its answer is no longer wanted) and run.
  restart() {
    if (this.ctrl) this.ctrl.abort();
    this.kick();
  }

  async run() {
    this.timer = null;
    if (this.stopped) return;
    if (document.hidden || (!this.probe && !getStatus().connected)) {
      this.parked = true; // woken by wake() below
      return;
    }
    this.parked = false;
    this.running = true;
    this.ctrl = new AbortController();
    let delay = this.interval;
    try {
      await this.fn(this.ctrl.signal);
      this.failures = 0;
    } catch (e) {
      if (!isAbort(e)) {
        this.failures++;
        const cap = e.busy ? this.busyBackoff : this.maxBackoff;
        delay = Math.min(this.interval * 2 ** this.failures, Math.max(cap, this.interval));
        if (!e.kind) console.error('poller:', e); // a bug, not the network
      }
    } finally {
      this.running = false;
      this.ctrl = null;
    }
    if (this.stopped) return;
    if (this.again) {
      this.again = false;
      delay = 0;
    }
    this.nextAt = Date.now() + delay;
    this.timer = setTimeout(() => this.run(), delay);
  }
}

function wake() {
  for (const p of pollers) if (p.parked) p.kick();
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) wake();
});

let wasConnected = true;
subscribe((s) => {
  if (s.connected && !wasConnected) wake();
  wasConnected = s.connected;
});
