// Pieces the list views share: the pager, labelled inputs, session links.
import { h, setText } from './dom.js';
import { int, sessionName } from './format.js';
import { sessionHref } from './router.js';

export const LIMITS = [50, 100, 200];

// Previous / next over the server's offset/limit, with the page size.
// onChange({offset, limit}) when the user moves.
export function pager(label, onChange) {
  let st = { offset: 0, limit: 100, total: 0 };
  const info = h('span', { class: 'pageinfo', 'aria-live': 'polite' });
  const prev = h('button', { type: 'button', onclick: () => go(st.offset - st.limit) }, '← Previous');
  const next = h('button', { type: 'button', onclick: () => go(st.offset + st.limit) }, 'Next →');
  const size = h('select', {
    onchange: () => {
      st.limit = Number(size.value);
      go(Math.floor(st.offset / st.limit) * st.limit);
    },
  }, LIMITS.map((n) => h('option', { value: n }, `${n} a page`)));
  const sizeLabel = h('label', null, h('span', { class: 'vh' }, 'Rows per page'), size);
  const el = h('nav', { class: 'pager', 'aria-label': label }, prev, info, next, sizeLabel);
  // Nothing to move over until a page has come (a view opened while the
  // kernel is stuck has none).
  prev.disabled = next.disabled = true;
  setText(info, '…');

  function go(offset) {
    st.offset = Math.max(0, offset);
    onChange({ offset: st.offset, limit: st.limit });
  }

  return {
    el,
    update(page) {
      st = { ...st, ...page };
      const { offset, limit, total } = st;
      const end = Math.min(offset + limit, total);
      setText(info, total ? `${int(offset + 1)}–${int(end)} of ${int(total)}` : 'none');
      prev.disabled = offset <= 0;
      next.disabled = offset + limit >= total;
      size.value = String(LIMITS.includes(limit) ? limit : 100);
    },
  };
}

// A labelled input: {label, id, type, value, ...attrs}; returns {el, input}.
export function field(label, attrs) {
  const input = h('input', { type: 'text', ...attrs });
  return { el: h('label', { class: 'field' }, h('span', null, label), input), input };
}

export function select(label, options, attrs) {
  const input = h('select', attrs, options.map(([v, t]) => h('option', { value: v }, t)));
  return { el: h('label', { class: 'field' }, h('span', null, label), input), input };
}

// A link to a session's detail; the kernel (0) is no session.
export function sessionLink(id, aliases) {
  if (!id) return h('span', { class: 'muted' }, 'kernel');
  return h('a', { href: sessionHref(id) }, sessionName(id, aliases));
}

// Page parameters from the address, within the server's bounds.
export function pageParams(params, defLimit = 100) {
  const offset = Math.max(0, parseInt(params.offset, 10) || 0);
  let limit = parseInt(params.limit, 10) || defLimit;
  limit = Math.min(200, Math.max(1, limit));
  return { offset, limit };
}

// Calls fn after the user stops typing for ms.
export function debounce(fn, ms = 300) {
  let t = null;
  return (...a) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...a), ms);
  };
}
