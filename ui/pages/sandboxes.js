// Sandboxes (GET /v1/sandboxes) with a delete button each. On a server without the
// sandboxes API the route is not found, and the page says so instead of failing.
import { api, ApiError } from '../api.js';
import { h, shortId, when } from '../dom.js';
import { listPage } from '../list-page.js';

export const NO_SANDBOXES = 'No sandboxes on this server.';

async function load() {
  try {
    const answer = await api('GET', '/v1/sandboxes');
    return Array.isArray(answer) ? answer : (answer?.sandboxes ?? []);
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
    headings: ['Id', 'Image', 'State', 'Created', 'Expires', ''],
    emptyText: 'No sandboxes.',
    load,
    row: (s, action) =>
      h(
        'tr',
        { 'data-sandbox-id': idOf(s) },
        h('td', { class: 'mono' }, shortId(idOf(s))),
        h('td', { class: 'mono' }, s.image ?? ''),
        h('td', {}, s.status ?? s.state ?? ''),
        h('td', {}, when(s.created_at ?? s.created)),
        h('td', {}, when(s.expires_at)),
        h('td', {}, action('Delete', `Delete sandbox ${idOf(s)}? Its container and files are removed.`, () => api('DELETE', `/v1/sandboxes/${encodeURIComponent(idOf(s))}`))),
      ),
  });
}
