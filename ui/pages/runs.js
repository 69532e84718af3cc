// The caller's runs, newest first, refreshed every two seconds; filters live in the
// address (#/runs?status=running&kind=image&owner=ci) so a filtered view can be shared.
import { api, query } from '../api.js';
import { badge, duration, every, fill, h, shortId, when } from '../dom.js';

const STATUSES = ['queued', 'pulling', 'building', 'running', 'succeeded', 'failed', 'timed_out', 'oom_killed', 'cancelled', 'error'];
const KINDS = ['image', 'payload', 'repo'];
const REFRESH_MS = 2000;

function options(values, current) {
  // The current filter stays selectable even when it is not (or no longer) among the values.
  const all = current && !values.includes(current) ? [...values, current] : values;
  return [h('option', { value: '' }, 'any'), all.map((v) => h('option', { value: v, selected: v === current }, v))];
}

function select(name, label, values, current, onchange) {
  return h('label', {}, `${label} `, h('select', { name, onchange }, options(values, current)));
}

function row(run) {
  return h(
    'tr',
    { 'data-run-id': run.run_id },
    h('td', {}, when(run.created_at)),
    h('td', {}, h('a', { href: `#/runs/${run.run_id}`, class: 'mono' }, shortId(run.run_id))),
    h('td', {}, run.kind),
    h('td', { class: 'mono' }, run.image),
    h('td', {}, badge(run.status)),
    h('td', {}, run.exit_code ?? ''),
    h('td', {}, run.finished_at ? duration(run.execution_time) : ''),
  );
}

export function mount(main, { params, info, navigate }) {
  const filters = { status: params.get('status') ?? '', kind: params.get('kind') ?? '', owner: params.get('owner') ?? '', cursor: params.get('cursor') ?? '' };
  const setFilter = (name) => (event) => navigate(`#/runs${query({ ...filters, cursor: '', [name]: event.target.value })}`);
  // Only an admin sees other owners' runs, so only an admin filters by owner; the
  // owners are asked again on every refresh, as new callers start runs.
  const admin = info?.caller.sees_all === true;
  const ownerSelect = admin ? select('owner', 'Owner', info.owners ?? [], filters.owner, setFilter('owner')) : null;
  const refreshOwners = async () => {
    if (!admin) return;
    const { owners = [] } = await api('GET', '/v1/info');
    const shown = ownerSelect.querySelector('select');
    const wanted = options(owners, filters.owner).flat();
    // Rebuilt only when the owners changed: an open drop-down is not closed under the person's hand.
    if ([...shown.options].map((o) => o.value).join() !== wanted.map((o) => o.value).join()) fill(shown, wanted);
  };
  const body = h('tbody');
  const state = h('p', { class: 'muted', role: 'status' });
  const more = h('p');
  fill(
    main,
    h('h1', {}, 'Runs'),
    h(
      'form',
      { class: 'filters', onsubmit: (e) => e.preventDefault() },
      select('status', 'Status', STATUSES, filters.status, setFilter('status')),
      select('kind', 'Kind', KINDS, filters.kind, setFilter('kind')),
      ownerSelect,
    ),
    h(
      'table',
      { class: 'runs' },
      h('thead', {}, h('tr', {}, ['Created', 'Run', 'Kind', 'Image', 'Status', 'Exit', 'Took'].map((c) => h('th', {}, c)))),
      body,
    ),
    state,
    more,
  );
  return every(REFRESH_MS, async () => {
    try {
      const [page] = await Promise.all([api('GET', `/v1/runs${query({ ...filters, limit: 50 })}`), refreshOwners()]);
      fill(body, page.runs.map(row));
      const filtered = filters.status || filters.kind || filters.owner;
      fill(state, page.runs.length ? `Updated ${new Date().toLocaleTimeString()}` : filtered ? 'No runs match these filters.' : 'No runs yet.');
      fill(more, page.next_cursor ? h('a', { href: `#/runs${query({ ...filters, cursor: page.next_cursor })}` }, 'Older runs') : null);
    } catch (err) {
      fill(state, h('span', { class: 'error' }, `Could not list runs: ${err.message}`));
    }
  });
}
