// The caller's runs, newest first, refreshed every two seconds; filters live in the
// address (#/runs?status=running&kind=image&owner=ci) so a filtered view can be shared.
import { api, query } from '../api.js';
import { badge, duration, every, fill, h, shortId, when } from '../dom.js';

const STATUSES = ['queued', 'pulling', 'building', 'running', 'succeeded', 'failed', 'timed_out', 'oom_killed', 'cancelled', 'error'];
const KINDS = ['image', 'payload', 'repo'];
const REFRESH_MS = 2000;

function select(name, label, values, current, onchange) {
  return h(
    'label',
    {},
    `${label} `,
    h('select', { name, onchange }, h('option', { value: '' }, 'any'), values.map((v) => h('option', { value: v, selected: v === current }, v))),
  );
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
  const owners = info?.owners ?? [];
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
      // Only an admin sees other owners' runs, so only an admin filters by owner.
      info?.caller.sees_all && owners.length ? select('owner', 'Owner', owners, filters.owner, setFilter('owner')) : null,
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
      const page = await api('GET', `/v1/runs${query({ ...filters, limit: 50 })}`);
      fill(body, page.runs.map(row));
      fill(state, page.runs.length ? `Updated ${new Date().toLocaleTimeString()}` : 'No runs yet.');
      fill(more, page.next_cursor ? h('a', { href: `#/runs${query({ ...filters, cursor: page.next_cursor })}` }, 'Older runs') : null);
    } catch (err) {
      fill(state, h('span', { class: 'error' }, `Could not list runs: ${err.message}`));
    }
  });
}
