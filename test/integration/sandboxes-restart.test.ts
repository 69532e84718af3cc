// A sandbox outlives its gateway: after a graceful stop and after kill -9, the next
// gateway process finds it by its record, keeps its container, and it works with its
// files intact; one that expired while the gateway was down is removed at start.
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnGateway, type GatewayProcess } from '../fixtures/gateway-process.js';
import { TEST_INSTANCE } from '../fixtures/docker.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { removeSandboxesOf, sandboxObjects } from '../fixtures/sandboxes.js';
import { waitFor } from '../fixtures/wait.js';

const INSTANCE = `${TEST_INSTANCE}-sandbox-restart`;
const dataDir = await mkdtemp(join(tmpdir(), 'slipway-sandbox-restart-'));
t.teardown(async () => {
  await removeSandboxesOf(INSTANCE);
  await rm(dataDir, { recursive: true, force: true });
});
const env = { SLIPWAY_DATA_DIR: dataDir, SLIPWAY_INSTANCE: INSTANCE };

function client(gw: GatewayProcess) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(gw.url + path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : null });
    return { status: res.status, body: (await res.json()) as any };
  };
}

t.test('a sandbox survives a graceful restart and a kill -9, with its files; an expired one is removed at start', async (t) => {
  let gw = await spawnGateway(env);
  t.teardown(() => gw.kill('SIGKILL'));
  let api = client(gw);
  const kept = (await api('POST', '/v1/sandboxes', { image: BUSYBOX_IMAGE, memory_limit: '64m' })).body;
  const doomed = (await api('POST', '/v1/sandboxes', { image: BUSYBOX_IMAGE, memory_limit: '64m', ttl_seconds: 2 })).body;
  t.equal((await api('POST', `/v1/sandboxes/${kept.sandbox_id}/exec`, { command: ['sh', '-c', 'echo state > s.txt'] })).body.status, 'succeeded');

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    await gw.kill(signal);
    if (signal === 'SIGKILL') await new Promise((resolve) => setTimeout(resolve, 2500)); // the doomed one's TTL passes while no gateway runs
    gw = await spawnGateway(env);
    api = client(gw);
    const again = await api('GET', `/v1/sandboxes/${kept.sandbox_id}`);
    t.match(again.body, { state: 'running', container_id: kept.container_id }, `after ${signal}: the same container`);
    const r = await api('POST', `/v1/sandboxes/${kept.sandbox_id}/exec`, { command: ['cat', 's.txt'] });
    t.equal(r.body.stdout, 'state\n', `after ${signal}: the workspace kept its file and the sandbox runs commands`);
  }
  t.equal((await api('GET', `/v1/sandboxes/${doomed.sandbox_id}`)).status, 404, 'the expired sandbox is gone from the records');
  t.same(await sandboxObjects(doomed.sandbox_id), { containers: [], volumes: [] }, 'and from the engine');

  t.equal((await api('DELETE', `/v1/sandboxes/${kept.sandbox_id}`)).status, 200);
  t.same(await sandboxObjects(kept.sandbox_id), { containers: [], volumes: [] });
});

t.test('an exec under way when the gateway is killed -9 ends error after the restart, its processes are killed, and the sandbox works on', async (t) => {
  let gw = await spawnGateway(env);
  t.teardown(() => gw.kill('SIGKILL'));
  let api = client(gw);
  const box = (await api('POST', '/v1/sandboxes', { image: BUSYBOX_IMAGE, memory_limit: '64m' })).body;
  // A tree: the exec's shell, a child in the background, and a grandchild in its own shell.
  const started = await api('POST', `/v1/sandboxes/${box.sandbox_id}/exec`, { command: ['sh', '-c', 'sleep 987 & sh -c "sleep 988"; wait'], wait: false, timeout: 600 });
  t.equal(started.status, 202);
  const runId = started.body.run_id;
  const ps = async () => (await api('POST', `/v1/sandboxes/${box.sandbox_id}/exec`, { command: ['ps', '-o', 'args'] })).body.stdout as string;
  await waitFor(async () => (await ps()).includes('sleep 988'), { what: 'the exec\'s processes to start' });
  t.equal((await api('GET', `/v1/runs/${runId}`)).body.status, 'running');

  await gw.kill('SIGKILL');
  gw = await spawnGateway(env);
  api = client(gw);
  const ended = await waitFor(async () => {
    const run = (await api('GET', `/v1/runs/${runId}`)).body;
    return run.status !== 'running' && run;
  }, { what: 'the interrupted exec to end' });
  t.match(ended, { status: 'error', error_message: /gateway restarted during the exec/ }, 'the run record ends, saying why');
  const left = await ps();
  t.notMatch(left, /sleep 98[78]/, 'none of its processes is left in the sandbox');
  t.match(left, /sleep 2147483647/, 'the keep-alive is untouched');
  const next = await api('POST', `/v1/sandboxes/${box.sandbox_id}/exec`, { command: ['echo', 'usable'] });
  t.match(next.body, { status: 'succeeded', stdout: 'usable\n' }, 'the sandbox takes the next exec');
  t.equal((await api('DELETE', `/v1/sandboxes/${box.sandbox_id}`)).status, 200);
});
