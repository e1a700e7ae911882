// The kernel's clock as seen from here: countdowns use the kernel's time
// (from its answers) rather than this machine's, which may differ.
import { remaining } from './format.js';

let offset = 0; // kernel seconds minus local seconds

export function noteServerNow(now) {
  if (typeof now === 'number' && isFinite(now)) offset = now - Date.now() / 1000;
}

export function serverNow() {
  return Date.now() / 1000 + offset;
}

// Countdown cells: elements with data-due (epoch seconds), ticked every
// 100 ms while any are on the page.

let ticker = null;

export function tickCountdowns() {
  const now = serverNow();
  const cells = document.querySelectorAll('[data-due]');
  for (const el of cells) {
    const t = remaining(Number(el.dataset.due) - now);
    if (el.textContent !== t) el.textContent = t;
  }
  if (!cells.length) {
    clearInterval(ticker);
    ticker = null;
  }
}

export function startCountdowns() {
  tickCountdowns();
  if (!ticker) ticker = setInterval(tickCountdowns, 100);
}

// A countdown element for an absolute due time.
export function countdown(due, tag = 'span') {
  const el = document.createElement(tag);
  el.className = 'countdown num';
  el.dataset.due = String(due);
  el.textContent = remaining(due - serverNow());
  return el;
}
