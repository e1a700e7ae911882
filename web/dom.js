// Building and updating the DOM without a framework.  Text always goes
// in as text (never HTML), so names from the kernel cannot inject markup.

// h('a', {href: '#/x', class: 'c', onclick: fn}, 'text', child, [more])
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'checked' || k === 'value' || k === 'disabled' || k === 'hidden') {
      el[k] = k === 'value' ? String(v ?? '') : !!v;
    } else if (v === undefined || v === null || v === false) {
      continue;
    } else if (k === 'class') {
      el.className = v;
    } else if (k === 'dataset') {
      Object.assign(el.dataset, v);
    } else if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  add(el, children);
  return el;
}

function add(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

export function setText(el, text) {
  const t = String(text ?? '');
  if (el.textContent !== t) el.textContent = t;
}

// Replaces el's content with children.
export function fill(el, ...children) {
  el.replaceChildren();
  add(el, children);
  return el;
}

/*
 * Keyed rows: tbody shows items in order, each as the row build(item)
 * makes.  A row whose sig(item) is unchanged is left alone, and rows are
 * moved only when out of place, so a focused link in a row keeps its
 * focus across refreshes.
 */
export function syncRows(tbody, items, key, build, sig = (x) => JSON.stringify(x)) {
  const old = new Map();
  for (const tr of tbody.children) old.set(tr.dataset.key, tr);
  let i = 0;
  for (const item of items) {
    const k = String(key(item));
    const s = sig(item);
    let tr = old.get(k);
    if (tr) {
      old.delete(k);
      if (tr._sig !== s) {
        const fresh = build(item);
        tr.replaceChildren(...fresh.childNodes);
        tr.className = fresh.className;
        tr._sig = s;
      }
    } else {
      tr = build(item);
      tr.dataset.key = k;
      tr._sig = s;
    }
    const at = tbody.children[i];
    if (at !== tr) tbody.insertBefore(tr, at || null);
    i++;
  }
  for (const tr of old.values()) tr.remove();
}

// A <table> in a scrolling box, with a caption and header cells.
// columns: [{label, key?, sort?: true, num?: true}]
export function table(caption, columns, { onSort } = {}) {
  const headRow = h('tr');
  for (const c of columns) {
    const th = h('th', { scope: 'col', class: c.num ? 'num' : null });
    if (c.sort && onSort) {
      th.setAttribute('aria-sort', 'none');
      th.append(h('button', { type: 'button', class: 'sort', onclick: () => onSort(c.key) }, c.label));
    } else {
      th.append(c.label);
    }
    c.th = th;
    headRow.append(th);
  }
  const tbody = h('tbody');
  const cap = h('caption', null, caption);
  const tbl = h('table', null, cap, h('thead', null, headRow), tbody);
  const empty = h('p', { class: 'empty', hidden: true });
  const box = h('div', { class: 'scroll' }, tbl, empty);
  return {
    el: box,
    table: tbl,
    caption: cap,
    tbody,
    // Shows what the table holds, or why it is empty.
    setEmpty(msg) {
      empty.hidden = !msg;
      setText(empty, msg || '');
    },
    setSort(key, dir) {
      for (const c of columns) {
        if (!c.sort) continue;
        c.th.setAttribute('aria-sort', c.key === key ? (dir > 0 ? 'ascending' : 'descending') : 'none');
      }
    },
  };
}

// td helpers
export function td(content, cls) {
  return h('td', cls ? { class: cls } : null, content);
}

export function num(n) {
  return h('td', { class: 'num' }, n === null || n === undefined ? '—' : String(n));
}

// A status line for errors and notes in a view (polite live region).
export function note() {
  const el = h('p', { class: 'note', role: 'status' });
  return {
    el,
    set(msg, kind = '') {
      setText(el, msg || '');
      el.className = 'note' + (kind ? ' ' + kind : '');
    },
  };
}
