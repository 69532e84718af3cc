// The gateway as its own process: killed with SIGKILL mid-run and started again, its
// records complete correctly and nothing is orphaned; and a stalled SSE reader while a
// run prints hundreds of megabytes leaves its memory flat.
import t from 'tap';
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnGateway, type GatewayProcess } from '../fixtures/gateway-process.js';
import { docker, TEST_INSTANCE } from '../fixtures/docker.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { pollUntilFinal, pollUntilRunning } from '../fixtures/runs.js';
import { readSse } from '../fixtures/sse.js';
import { startEngineProxy } from '../fixtures/engine-proxy.js';
import { startGateway } from '../fixtures/gateway.js';
import { LABEL_INSTANCE, LABEL_MANAGED, LABEL_RUN_ID } from '../../lib/labels.js';

const INSTANCE = `${TEST_INSTANCE}-restart`;
const dataDir = await mkdtemp(join(tmpdir(), 'slipway-restart-'));
t.teardown(() => rm(dataDir, { recursive: true, force: true }));

function client(gw: GatewayProcess) {
  return {
    async request(method: string, path: string, body?: unknown) {
      const res = await fetch(gw.url + path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : null });
      return { status: res.status, body: (await res.json()) as any };
    },
  };
}

const instanceContainers = () => docker.listContainers({ all: true, filters: { label: [`${LABEL_INSTANCE}=${INSTANCE}`] } });

t.test('kill -9 mid-run, then restart: runs complete, vanished ones end in error, strays are removed', async (t) => {
  const env = { SLIPWAY_DATA_DIR: dataDir, SLIPWAY_INSTANCE: INSTANCE };
  const first = await spawnGateway(env);
  t.teardown(() => first.kill('SIGKILL'));
  const api = client(first);
  const sh = (script: string) => ({ image: BUSYBOX_IMAGE, command: ['sh', '-c', script], wait: false });

  const longRun = (await api.request('POST', '/v1/containers/run', sh('for i in 1 2 3 4 5 6 7 8; do echo "a $i"; sleep 0.5; done'))).body.run_id;
  const endsWhileDown = (await api.request('POST', '/v1/containers/run', sh('echo b-start; sleep 1; echo b-done >&2; exit 7'))).body.run_id;
  const vanishes = (await api.request('POST', '/v1/containers/run', sh('sleep 60'))).body.run_id;
  for (const id of [longRun, endsWhileDown, vanishes]) await pollUntilRunning(api, id);
  await new Promise((r) => setTimeout(r, 700)); // a line or two of the long run is logged before the kill

  await first.kill('SIGKILL');
  // While the gateway is down: one container finishes, one is removed by hand, one stray appears.
  const byRun = new Map((await instanceContainers()).map((c) => [c.Labels[LABEL_RUN_ID], c]));
  t.equal(byRun.size, 3, 'the killed gateway removed nothing');
  await docker.getContainer(byRun.get(endsWhileDown)!.Id).wait();
  await docker.getContainer(byRun.get(vanishes)!.Id).remove({ force: true });
  const stray = await docker.createContainer({
    Image: BUSYBOX_IMAGE,
    Cmd: ['sleep', '60'],
    Labels: { [LABEL_MANAGED]: 'true', [LABEL_INSTANCE]: INSTANCE, [LABEL_RUN_ID]: '11111111-1111-1111-1111-111111111111' },
    HostConfig: { NetworkMode: 'none' },
  });
  await stray.start();

  const second = await spawnGateway(env);
  t.teardown(() => second.kill('SIGKILL'));
  const api2 = client(second);

  const b = await pollUntilFinal(api2, endsWhileDown);
  t.match(b, { status: 'failed', exit_code: 7, stdout: 'b-start\n', stderr: 'b-done\n', error_message: /code 7/ }, 'finished while down: exit code and output recorded');
  const a = await pollUntilFinal(api2, longRun);
  t.match(a, { status: 'succeeded', exit_code: 0 }, 'still running at restart: followed to its end');
  t.equal(a.stdout, [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `a ${i}\n`).join(''));
  const events = await readSse(`${second.url}/v1/runs/${longRun}/logs`);
  t.same(events.map((e) => e.id), events.map((_, i) => i + 1), 'event ids stay consecutive across the restart');
  t.same(events.filter((e) => e.event === 'stdout').map((e) => e.data.data).join(''), a.stdout, 'every line logged exactly once');
  const c = await pollUntilFinal(api2, vanishes);
  t.match(c, { status: 'error', error_message: /vanished/ });

  for (let i = 0; i < 50 && (await instanceContainers()).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  t.same(await instanceContainers(), [], 'nothing orphaned: finished and stray containers removed');
  const listed = (await api2.request('GET', '/v1/runs')).body.runs.map((r: any) => r.run_id).sort();
  t.same(listed, [longRun, endsWhileDown, vanishes].sort(), 'every record is still there');
  await second.kill('SIGTERM');
});

t.test('kill -9 mid-payload, then restart: the payload\'s record ends in error saying the gateway restarted, and its container and volume are removed', async (t) => {
  const env = { SLIPWAY_DATA_DIR: dataDir, SLIPWAY_INSTANCE: INSTANCE };
  const first = await spawnGateway(env);
  t.teardown(() => first.kill('SIGKILL'));
  const payload = { image: BUSYBOX_IMAGE, command: ['sh', 'main.sh'], payload: 'echo started; sleep 300', payload_path: 'main.sh', wait: false };
  const runId = (await client(first).request('POST', '/v1/payloads/run', payload)).body.run_id;
  await pollUntilRunning(client(first), runId);
  await first.kill('SIGKILL');
  t.equal((await instanceContainers()).length, 1, 'the killed gateway left its container');

  const second = await spawnGateway(env);
  t.teardown(() => second.kill('SIGKILL'));
  const ended = await pollUntilFinal(client(second), runId);
  t.match(ended, { status: 'error', error_message: /gateway restarted while the run was under way/ });
  for (let i = 0; i < 50 && (await instanceContainers()).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  t.same(await instanceContainers(), [], 'its container is removed');
  // The agent volume the killed process filled goes right after the containers, once none uses it.
  const instanceVolumes = async () => (await docker.listVolumes({ filters: { label: [`${LABEL_INSTANCE}=${INSTANCE}`] } })).Volumes ?? [];
  for (let i = 0; i < 50 && (await instanceVolumes()).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  t.same(await instanceVolumes(), [], 'and its agent volume');
  await second.kill('SIGTERM');
});

t.test('restarted while the engine is away: runs are reconciled once it comes back', async (t) => {
  const proxy = await startEngineProxy();
  t.teardown(() => proxy.close());
  const awayDir = await mkdtemp(join(tmpdir(), 'slipway-away-'));
  t.teardown(() => rm(awayDir, { recursive: true, force: true }));
  const env = { SLIPWAY_DATA_DIR: awayDir, SLIPWAY_INSTANCE: `${INSTANCE}-away`, DOCKER_HOST: proxy.dockerHost, SLIPWAY_RUN_SWEEP_INTERVAL_SECONDS: '1' };
  const first = await spawnGateway(env);
  t.teardown(() => first.kill('SIGKILL'));
  const api = client(first);
  const runId = (await api.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'sleep 2; echo done'], wait: false })).body.run_id;
  await pollUntilRunning(api, runId);
  await first.kill('SIGKILL');
  await proxy.down();

  // In-process: server/main.ts would refuse to start without an engine, but an engine
  // can also vanish between that check and the reconciliation.
  const second = await startGateway(env);
  t.teardown(() => second.close());
  t.equal((await second.request('GET', '/readyz')).status, 503, 'not ready without an engine');
  t.equal((await second.request('GET', `/v1/runs/${runId}`)).body.status, 'running', 'the record waits for the engine');
  await proxy.up();
  t.match(await pollUntilFinal(second, runId), { status: 'succeeded', stdout: 'done\n' }, 'followed to its end once the engine answered');
});

t.test('a stalled SSE reader while a run prints hundreds of megabytes leaves memory flat', async (t) => {
  const memDir = await mkdtemp(join(tmpdir(), 'slipway-memory-'));
  t.teardown(() => rm(memDir, { recursive: true, force: true }));
  const gw = await spawnGateway({ SLIPWAY_DATA_DIR: memDir, SLIPWAY_INSTANCE: `${INSTANCE}-memory`, SLIPWAY_OUTPUT_LIMIT_BYTES: String(2 ** 30), SLIPWAY_SSE_STALL_SECONDS: '3600' });
  t.teardown(() => gw.kill('SIGKILL'));
  const api = client(gw);
  await api.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['echo', 'warm up'] });
  const baseline = gw.rss();

  const MB = 300;
  const run = (await api.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['sh', '-c', `yes 0123456789abcdef0123456789abcdef | head -c ${MB}000000; echo; echo finished`], timeout: 300, wait: false })).body.run_id;
  // A reader that never reads: the gateway must stop writing to it, not buffer for it.
  const stalled = httpRequest(`${gw.url}/v1/runs/${run}/logs`, (res) => res.pause());
  stalled.on('error', () => {});
  stalled.end();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, gw.rss())), 100);
  const final = await pollUntilFinal(api, run, 240_000);
  clearInterval(sampler);
  stalled.destroy();
  t.match(final, { status: 'succeeded', stdout_truncated: true });
  t.equal(final.stdout.length, 1024 * 1024, 'kept exactly the per-stream cap');
  const growthMb = (peak - baseline) / 2 ** 20;
  t.comment(`gateway RSS: baseline ${(baseline / 2 ** 20).toFixed(0)} MiB, peak ${(peak / 2 ** 20).toFixed(0)} MiB while ${MB} MB went by`);
  // Buffering the output would grow by the 300 MB itself. The bound leaves room for the
  // heap V8 keeps between collections: Node 24 grew 114 MiB here under load (Node 20: ~40).
  t.ok(growthMb < 160, `memory stayed flat (grew ${growthMb.toFixed(0)} MiB for ${MB} MB of output)`);
  await gw.kill('SIGTERM');
});
