// Building elements without innerHTML: every value from the API (an image name, a log
// line) becomes a text node, never markup.

/** `h('a', { href: '#/runs', class: 'x', onclick: fn }, 'text', child)` */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces what `el` holds. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** `2026-11-29T17:00:00.000Z` as the viewer's local date and time. */
export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : '';
}

/** Seconds as `1.2 s`, `3 min 4 s`. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

export function bytes(n) {
  if (n === null || n === undefined) return '';
  const mib = n / (1024 * 1024);
  return mib >= 1024 ? `${(mib / 1024).toFixed(1)} GiB` : mib >= 1 ? `${Math.round(mib)} MiB` : `${Math.round(n / 1024)} KiB`;
}

export const shortId = (id) => (id ? String(id).slice(0, 12) : '');

/** A status as a coloured badge; the class names the status (style.css). */
export const badge = (status) => h('span', { class: `badge status-${status}`, 'data-status': status }, status);

/** Calls `fn` now and every `ms` until the returned function is called; a slow call is never overlapped. */
export function every(ms, fn) {
  let stopped = false;
  let timer;
  const tick = async () => {
    try {
      await fn();
    } finally {
      if (!stopped) timer = setTimeout(tick, ms);
    }
  };
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
