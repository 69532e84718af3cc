// The engine's state (GET /readyz) and what the server allows this caller (GET /v1/info).
import { api } from '../api.js';
import { bytes, every, fill, h } from '../dom.js';

const REFRESH_MS = 5000;

const list = (rows) => h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
const limits = (l) => `${bytes(l.memory_bytes)} memory, ${l.cpus} CPU, ${l.pids_limit} processes, ${l.timeout_seconds} s`;
const yes = (b) => (b ? 'yes' : 'no');

/** The warm pool (SLIPWAY_POOL), one row per entry; nothing when the server keeps none. */
function poolView(entries) {
  if (entries.length === 0) return [];
  const cells = (tag, values) => h('tr', {}, values.map((v) => h(tag, {}, String(v))));
  return [
    h('h2', {}, 'Warm pool'),
    h('table', { class: 'pool' }, [
      h('thead', {}, cells('th', ['Entry', 'Image', 'Idle', 'Claimed', 'Being created', 'Misses'])),
      h('tbody', {}, entries.map((e) => cells('td', [e.key, e.image, `${e.idle} / ${e.size}`, e.claimed, e.replenishing, e.misses]))),
    ]),
  ];
}

async function readiness() {
  // Public and tokenless: it says only whether runs can start.
  const res = await fetch('/readyz', { cache: 'no-store' });
  const body = await res.json().catch(() => ({}));
  return res.ok ? 'ready' : `not ready: ${body?.error?.message ?? `HTTP ${res.status}`}`;
}

export function mount(main) {
  const engine = h('section', { class: 'engine' });
  const policy = h('section', { class: 'policy' });
  fill(main, h('h1', {}, 'Server'), engine, policy);
  return every(REFRESH_MS, async () => {
    const [ready, info] = await Promise.allSettled([readiness(), api('GET', '/v1/info')]);
    const i = info.status === 'fulfilled' ? info.value : undefined;
    fill(
      engine,
      h('h2', {}, 'Engine'),
      list([
        ['Readiness', h('span', { 'data-ready': String(ready.value === 'ready') }, ready.status === 'fulfilled' ? ready.value : `unknown: ${ready.reason.message}`)],
        ...(i ? [['Backend', i.engine.backend], ['Version', i.engine.version ?? `unreachable: ${i.engine.error}`], ['Instance', i.server.instance]] : []),
      ]),
    );
    if (!i) return fill(policy, h('p', { class: 'error' }, `Could not read the server's policy: ${info.reason.message}`));
    const p = i.policy;
    const s = i.server;
    return fill(
      policy,
      h('h2', {}, 'Your limits and policy'),
      list([
        ['Caller', i.caller.name ?? 'open server (no tokens)'],
        ['Sees every caller\'s runs', yes(i.caller.sees_all)],
        ['Defaults', limits(p.defaults)],
        ['Caps', limits(p.caps)],
        ['Network modes', p.network_modes.join(', ')],
        ['Writable root filesystem', yes(p.allow_writable_rootfs)],
        ['Images allowed', p.image_allow.length ? p.image_allow.join(', ') : 'any'],
        ['Repository builds', p.allow_builds ? `yes${p.build_network ? ', with network' : ', without network'}` : 'no'],
        ['Containers manageable', p.manage_all_containers ? 'every container on the engine' : 'those this server created'],
        ['Runtime', p.runtime ?? 'engine default'],
        ['Runs at once (yours)', p.max_concurrent_runs ?? 'server bound only'],
      ]),
      ...poolView(i.pool ?? []),
      h('h2', {}, 'Server bounds'),
      list([
        ['Runs executing at once', s.max_concurrent_runs],
        ['Runs queued', s.max_queued_runs],
        ['Per caller: executing / queued', `${s.max_running_per_caller} / ${s.max_queued_per_caller}`],
        ['Output kept per stream', bytes(s.output_cap_bytes)],
        ['Runs kept for', `${Math.round(s.run_retention_seconds / 3600)} h`],
      ]),
    );
  });
}
