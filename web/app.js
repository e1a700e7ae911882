// The page: the kernel header, the view tabs (#hash links), and one view
// at a time in <main>, refreshed by its own poller while it is shown.
import { verifyToken } from './api.js';
import { h, fill } from './dom.js';
import { Poller } from './poller.js';
import { parse, href } from './router.js';
import { mountHeader } from './views/header.js';
import sessions from './views/sessions.js';
import tree from './views/tree.js';
import session from './views/session.js';
import timers from './views/timers.js';
import io from './views/io.js';
import signals from './views/signals.js';
import queue from './views/queue.js';
import why from './views/why.js';
import trace from './views/trace.js';
import control from './views/control.js';
import lineage from './views/lineage.js';
import lints from './views/lints.js';
import { getStatus, subscribe } from './status.js';
import { hms } from './format.js';
import { sessionLink } from './widgets.js';

const VIEWS = [sessions, tree, session, timers, io, signals, queue, why, lints, trace, lineage, control];
const DEFAULT = 'sessions';

const tabs = document.getElementById('tabs');
const main = document.getElementById('main');
const links = new Map();

for (const v of VIEWS) {
  const a = h('a', { href: href(v.id), dataset: { view: v.id } }, v.label);
  links.set(v.id, a);
  tabs.append(h('li', null, a));
}

// Arrow keys, Home and End move between the tabs; Enter follows one.
tabs.addEventListener('keydown', (e) => {
  const all = [...links.values()];
  const i = all.indexOf(document.activeElement);
  if (i < 0) return;
  let j = null;
  if (e.key === 'ArrowRight' || e.key === 'ArrowDown') j = (i + 1) % all.length;
  else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') j = (i - 1 + all.length) % all.length;
  else if (e.key === 'Home') j = 0;
  else if (e.key === 'End') j = all.length - 1;
  if (j === null) return;
  e.preventDefault();
  all[j].focus();
});

let current = null; // {key, view, inst, poller, section}

function show() {
  const r = parse();
  const view = VIEWS.find((v) => v.id === r.view);
  if (!view) {
    history.replaceState(null, '', href(DEFAULT));
    return show();
  }
  const key = `${r.view}/${r.arg}?${new URLSearchParams(r.params)}`;
  if (current && current.key === key) return;
  if (current) {
    if (current.poller) current.poller.stop();
    if (current.inst.destroy) current.inst.destroy();
  }
  for (const [id, a] of links) {
    if (id === view.id) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (view.id === 'session' && r.arg) links.get('session').href = href('session', r.arg);
  const section = h('section', { class: 'view', id: 'view-' + view.id, 'aria-labelledby': 'view-title' });
  fill(main, section);
  const inst = view.mount(section, r) || {};
  const title = section.querySelector('h2');
  if (title) title.id = 'view-title';
  document.title = `${title ? title.textContent : view.label} · libpoe inspector`;
  const poller = inst.refresh ? new Poller((sig) => inst.refresh(sig), inst.interval || 2000).start() : null;
  current = { key, view, inst, poller, section };
  renderStale();
  // A view asks for a refresh now (its filters changed) through this.
  inst.kick = () => poller && poller.kick();
  inst.restart = () => poller && poller.restart();
}

// While the kernel is stuck, the view shows its last answer (api.js
// hands it back) or nothing, and says which, with where the kernel is
// stuck; the note goes with the next fresh answer.
function renderStale() {
  if (!current) return;
  const s = getStatus().stale;
  let el = current.section.querySelector(':scope > .stale-note');
  current.section.classList.toggle('stale', !!s);
  if (!s) {
    if (el) el.remove();
    return;
  }
  if (!el) {
    el = h('p', { class: 'note warn stale-note', id: 'stale-note', role: 'status' });
    const title = current.section.querySelector('h2');
    if (title) title.after(el);
    else current.section.prepend(el);
  }
  const b = s.busy || {};
  const want = `${s.at}/${b.session}/${b.event}/${b.dispatching}`;
  if (el.dataset.what === want) return;
  el.dataset.what = want;
  fill(el, s.at ? `Stale: shown as it was at ${hms(s.at / 1000)}; ` : 'No answer to show: ',
    b.dispatching
      ? ['the kernel is stuck in session ', sessionLink(b.session), `, event “${b.event || '?'}”.`]
      : 'the kernel does not answer (not in a handler).');
}
subscribe(renderStale);

// A view's own parameter changes use replaceState: no hashchange, and
// the view keeps running; a link or the back button remounts.
window.addEventListener('hashchange', show);

// The skip link focuses <main> without touching the route.
document.querySelector('.skip').addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});

mountHeader(document.getElementById('kernel'), document.getElementById('banners'));
verifyToken().catch(() => {});
show();
