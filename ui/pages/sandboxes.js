// Sandboxes (GET /v1/sandboxes) with a delete button each. On a server without the
// sandboxes API the route is not found, and the page says so instead of failing.
// Their CPU and memory now come from each sandbox's own GET (the list does not measure;
// the gateway keeps a reading for a couple of seconds, so a refresh costs the engine
// at most one stats call per sandbox).
import { api, ApiError } from '../api.js';
import { bytes, h, shortId, when } from '../dom.js';
import { listPage } from '../list-page.js';

export const NO_SANDBOXES = 'No sandboxes on this server.';

async function load() {
  try {
    const answer = await api('GET', '/v1/sandboxes');
    const sandboxes = Array.isArray(answer) ? answer : (answer?.sandboxes ?? []);
    // A sandbox deleted meanwhile (or a failed GET) keeps its listed record, without usage.
    return Promise.all(sandboxes.map((s) => api('GET', `/v1/sandboxes/${encodeURIComponent(idOf(s))}`).catch(() => s)));
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && err.code === 'SLIPWAY_ERR_ROUTE_NOT_FOUND') return NO_SANDBOXES;
    throw err;
  }
}

const idOf = (s) => s.sandbox_id ?? s.id;

export function mount(main) {
  return listPage(main, {
    title: 'Sandboxes',
    className: 'sandboxes',
    headings: ['Id', 'Image', 'State', 'CPU', 'Memory', 'Created', 'Expires', ''],
    emptyText: 'No sandboxes.',
    load,
    row: (s, action) =>
      h(
        'tr',
        { 'data-sandbox-id': idOf(s) },
        h('td', { class: 'mono' }, shortId(idOf(s))),
        h('td', { class: 'mono' }, s.image ?? ''),
        h('td', {}, s.status ?? s.state ?? ''),
        h('td', { class: 'cpu', title: s.usage_unavailable ?? '' }, s.usage ? `${s.usage.cpu_seconds.toFixed(2)} s` : '–'),
        h('td', { class: 'memory', title: s.usage_unavailable ?? '' }, s.usage ? bytes(s.usage.memory_bytes) : '–'),
        h('td', {}, when(s.created_at ?? s.created)),
        h('td', {}, when(s.expires_at)),
        h('td', {}, action('Delete', `Delete sandbox ${idOf(s)}? Its container and files are removed.`, () => api('DELETE', `/v1/sandboxes/${encodeURIComponent(idOf(s))}`))),
      ),
  });
}
