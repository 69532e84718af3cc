// A page that lists things, refreshes, and offers a destructive button per row
// (containers, sandboxes): the refresh, the confirmation and the error line once.
import { every, fill, h } from './dom.js';

/**
 * `load()` answers the items, or a string saying why there are none to list here.
 * `row(item, action)` builds a table row; `action(label, question, call)` is a button
 * that asks `question`, then awaits `call()` and refreshes.
 */
export function listPage(main, { title, className, headings, load, row, emptyText, refreshMs = 3000 }) {
  const body = h('tbody');
  const state = h('p', { class: 'muted', role: 'status' });
  const report = (text) => fill(state, h('span', { class: 'error' }, text));
  let refresh = async () => {};
  const action = (label, question, call) => {
    const button = h('button', { class: 'danger' }, label);
    button.addEventListener('click', async () => {
      if (!window.confirm(question)) return;
      button.disabled = true;
      try {
        await call();
      } catch (err) {
        report(`${label} failed: ${err.message}`);
        return;
      }
      await refresh();
    });
    return button;
  };
  fill(main, h('h1', {}, title), h('table', { class: className }, h('thead', {}, h('tr', {}, headings.map((c) => h('th', {}, c)))), body), state);
  refresh = async () => {
    try {
      const items = await load();
      if (typeof items === 'string') return fill(state, items);
      fill(body, items.map((item) => row(item, action)));
      fill(state, items.length ? `Updated ${new Date().toLocaleTimeString()}` : emptyText);
    } catch (err) {
      report(`Could not list ${title.toLowerCase()}: ${err.message}`);
    }
    return undefined;
  };
  return every(refreshMs, () => refresh());
}
