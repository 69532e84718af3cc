// The warm pool (SLIPWAY_POOL) against the real engine: a sandbox create takes a pooled
// container, the pool refills, no pooled container ever serves two sandboxes, a broken one
// is replaced, an empty pool means a cold create and a counted miss, the state shows in
// /readyz, /metrics and /v1/info, and nothing is left after delete, shutdown or restart.
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker, TEST_INSTANCE } from '../fixtures/docker.js';
import { spawnGateway, type GatewayProcess } from '../fixtures/gateway-process.js';
import { startGateway, type Gateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { inspectContainer, sandboxObjects } from '../fixtures/sandboxes.js';
import { waitFor } from '../fixtures/wait.js';
import { LABEL_INSTANCE, LABEL_KIND, LABEL_POOL, LABEL_SANDBOX_ID } from '../../lib/labels.js';

const POOL_ENV = {
  // `sh` is the test preset of the busybox image (test/fixtures/gateway.ts).
  SLIPWAY_POOL: JSON.stringify({ sh: 2 }),
  SLIPWAY_POOL_CHECK_SECONDS: '1',
  SLIPWAY_MEMORY_DEFAULT_BYTES: String(64 * 1024 * 1024),
  SLIPWAY_SANDBOX_MAX_PER_CALLER: '8',
};

/** Everything of `instance` on the engine: containers (running or not) and volumes. */
async function objectsOf(instance: string): Promise<{ containers: string[]; volumes: string[] }> {
  const filters = { label: [`${LABEL_INSTANCE}=${instance}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const { Volumes } = await docker.listVolumes({ filters });
  return { containers: containers.map((c) => c.Id), volumes: (Volumes ?? []).map((v) => v.Name) };
}

async function removeAllOf(instance: string): Promise<void> {
  const { containers, volumes } = await objectsOf(instance);
  for (const id of containers) await docker.getContainer(id).remove({ force: true, v: true }).catch(() => undefined);
  for (const name of volumes) await docker.getVolume(name).remove().catch(() => undefined);
}

/** The running pooled containers the engine holds for `instance`: container id to the sandbox id it was born with. */
async function pooledOnEngine(instance: string): Promise<Map<string, string>> {
  const listed = await docker.listContainers({ filters: { label: [`${LABEL_INSTANCE}=${instance}`, `${LABEL_KIND}=pool`], status: ['running'] } });
  return new Map(listed.map((c) => [c.Id, c.Labels[LABEL_SANDBOX_ID]!]));
}

/** The value of one series in Prometheus text, 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const poolLine = async (gw: Gateway): Promise<string> => (await gw.request('GET', '/readyz')).body.details?.['pool sh'] ?? '';
const poolFull = (gw: Gateway) => waitFor(async () => (await poolLine(gw)).startsWith('idle 2/2, ') && (await poolLine(gw)).includes('replenishing 0'), { what: 'a full pool', timeoutMs: 30_000 });

t.test('with a warm pool', async (t) => {
  const gw = await startGateway(POOL_ENV);
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= gw.close());
  t.teardown(async () => {
    await close();
    await removeAllOf(gw.instance);
  });
  const create = (body: Record<string, unknown>) => gw.request('POST', '/v1/sandboxes', body);
  const del = (id: string) => gw.request('DELETE', `/v1/sandboxes/${id}`);

  t.test('a sandbox create takes a pooled container, the pool refills, and no pooled container serves two sandboxes', async (t) => {
    await poolFull(gw);
    const served = new Set<string>();
    const sandboxes: { sandbox_id: string; container_id: string }[] = [];
    for (let i = 0; i < 3; i++) {
      await poolFull(gw);
      const pooled = await pooledOnEngine(gw.instance);
      for (const id of served) pooled.delete(id);
      t.equal(pooled.size, 2, `before create ${i}: two idle pooled containers the pool has not handed out`);
      const created = await create({ language: 'sh' });
      t.equal(created.status, 200, JSON.stringify(created.body));
      const { sandbox_id, container_id } = created.body;
      t.ok(pooled.has(container_id), `create ${i} got one of the pool's idle containers`);
      t.equal(pooled.get(container_id), sandbox_id, 'the sandbox id is the one the pooled container was born with');
      t.notOk(served.has(container_id), 'a container no earlier sandbox had');
      served.add(container_id);
      sandboxes.push(created.body);
    }
    t.equal(new Set(sandboxes.map((s) => s.sandbox_id)).size, 3, 'three sandbox ids');

    const info = await inspectContainer(sandboxes[0]!.container_id);
    t.match(info.Config.Labels, { [LABEL_KIND]: 'pool', [LABEL_POOL]: 'sh', [LABEL_SANDBOX_ID]: sandboxes[0]!.sandbox_id });
    t.equal(info.HostConfig.ReadonlyRootfs, true, 'hardened as any sandbox: read-only root');
    t.same(info.HostConfig.CapDrop, ['ALL']);
    t.equal(info.HostConfig.NetworkMode, 'none');
    t.equal(info.HostConfig.Memory, 64 * 1024 * 1024, 'the server\'s default memory limit');

    const [a, b] = sandboxes;
    const wrote = await gw.request('POST', `/v1/sandboxes/${a!.sandbox_id}/exec`, { command: ['sh', '-c', 'echo secret > mine.txt; echo ok'] });
    t.match(wrote.body, { status: 'succeeded', stdout: 'ok\n' }, 'a claimed sandbox runs commands');
    const other = await gw.request('POST', `/v1/sandboxes/${b!.sandbox_id}/exec`, { command: ['ls', '-A', '/workspace'] });
    t.match(other.body, { status: 'succeeded', stdout: '' }, 'the next sandbox sees nothing of the first');

    const listed = await gw.request('GET', '/v1/sandboxes');
    t.same(listed.body.sandboxes.map((s: any) => s.sandbox_id).sort(), sandboxes.map((s) => s.sandbox_id).sort(), 'listed like any sandbox');
    t.match(await poolLine(gw), /claimed 3/, '/readyz counts the claimed containers');
    for (const s of sandboxes) {
      t.equal((await del(s.sandbox_id)).status, 200);
      t.same(await sandboxObjects(s.sandbox_id), { containers: [], volumes: [] }, 'delete removes the claimed container and its agent volume');
    }
    t.match(await poolLine(gw), /claimed 0/, 'released from the count on delete');
  });

  t.test('a pooled container that stops is removed and replaced', async (t) => {
    await poolFull(gw);
    const before = await pooledOnEngine(gw.instance);
    const [victim, victimSandbox] = [...before][0]!;
    await docker.getContainer(victim).kill();
    await waitFor(async () => (await sandboxObjects(victimSandbox)).containers.length === 0, { what: 'the stopped pooled container to be removed', timeoutMs: 15_000 });
    t.same(await sandboxObjects(victimSandbox), { containers: [], volumes: [] }, 'its container and agent volume are gone');
    await poolFull(gw);
    const after = await pooledOnEngine(gw.instance);
    t.equal(after.size, 2, 'two idle again');
    t.notOk(after.has(victim), 'with a new container in its place');
  });

  t.test('creates that find the pool empty start cold and each counts a miss; state shows in /metrics and /v1/info', async (t) => {
    await poolFull(gw);
    const pooled = await pooledOnEngine(gw.instance);
    const metricsBefore = (await gw.request('GET', '/metrics')).body as string;
    t.equal(sample(metricsBefore, 'slipway_pool_idle'), 2, 'pool_idle gauge');
    // Four at once against two idle: refills are one at a time, far slower than a claim, so some must start cold.
    const created = await Promise.all([0, 1, 2, 3].map(() => create({ language: 'sh' })));
    t.same(created.map((r) => r.status), [200, 200, 200, 200]);
    const ids = created.map((r) => r.body.container_id as string);
    t.equal(new Set(ids).size, 4, 'four distinct containers');
    const cold = ids.filter((id) => !pooled.has(id)).length;
    t.ok(cold >= 1, `${cold} started cold`);
    t.ok(ids.filter((id) => pooled.has(id)).length <= 2, 'no more pooled ones than the pool held');
    for (const r of created) {
      const exec = await gw.request('POST', `/v1/sandboxes/${r.body.sandbox_id}/exec`, { command: ['echo', 'hi'] });
      t.equal(exec.body.stdout, 'hi\n', 'cold or pooled, each works');
    }
    const metricsAfter = (await gw.request('GET', '/metrics')).body as string;
    t.equal(sample(metricsAfter, 'slipway_pool_misses_total') - sample(metricsBefore, 'slipway_pool_misses_total'), cold, 'one miss per cold create');
    t.equal(sample(metricsAfter, 'slipway_pool_claimed'), 4 - cold, 'pool_claimed gauge');
    const info = await gw.request('GET', '/v1/info');
    t.match(info.body.pool, [{ key: 'sh', image: BUSYBOX_IMAGE, size: 2, claimed: 4 - cold, misses: sample(metricsAfter, 'slipway_pool_misses_total') }]);

    const custom = await create({ language: 'sh', memory_limit: '32m' });
    t.notOk((await pooledOnEngine(gw.instance)).has(custom.body.container_id) || pooled.has(custom.body.container_id), 'other limits than the defaults never take a pooled container');
    const withEnv = await create({ language: 'sh', environment: { A: '1' } });
    t.notOk(pooled.has(withEnv.body.container_id), 'nor does an environment of the caller\'s');
    const misses = sample((await gw.request('GET', '/metrics')).body as string, 'slipway_pool_misses_total');
    t.equal(misses, sample(metricsAfter, 'slipway_pool_misses_total'), 'and those are not misses');
    for (const r of [...created, custom, withEnv]) t.equal((await del(r.body.sandbox_id)).status, 200);
  });

  t.test('a payload run of a pooled preset runs in a pooled container, which is discarded after that one run; the pool refills', async (t) => {
    const runs: { container_id: string; stdout: string }[] = [];
    for (let i = 0; i < 3; i++) {
      await poolFull(gw);
      const pooled = await pooledOnEngine(gw.instance);
      const res = await gw.request('POST', '/v1/payloads/run', {
        language: 'sh',
        payload: `ls -A; echo run-${i} > mine.txt; cat mine.txt`,
        return_files: ['mine.txt'],
      });
      t.equal(res.status, 200, JSON.stringify(res.body));
      t.equal(res.body.status, 'succeeded', JSON.stringify(res.body));
      t.ok(pooled.has(res.body.container_id), `payload ${i} ran in one of the pool's idle containers`);
      t.equal(res.body.stdout, `main.sh\nrun-${i}\n`, 'it saw only its own files, and wrote next to them');
      t.match(res.body.files, [{ path: 'mine.txt', content: `run-${i}\n` }], 'and handed back the file it wrote');
      runs.push(res.body);
      await waitFor(async () => (await sandboxObjects(pooled.get(res.body.container_id)!)).containers.length === 0, { what: 'the used pooled container to be removed', timeoutMs: 15_000 });
    }
    t.equal(new Set(runs.map((r) => r.container_id)).size, 3, 'three runs, three containers: none served twice');
    await poolFull(gw);
    t.match(await poolLine(gw), /claimed 0/, 'nothing stays claimed after the runs');
    const idle = await pooledOnEngine(gw.instance);
    const custom = await gw.request('POST', '/v1/payloads/run', { language: 'sh', payload: 'echo custom', memory_limit: '32m' });
    t.equal(custom.body.status, 'succeeded', JSON.stringify(custom.body));
    t.notOk(idle.has(custom.body.container_id), 'a run with other limits than the pool\'s starts cold');
  });

  t.test('closing the gateway drains the pool: nothing of the instance is left', async (t) => {
    await poolFull(gw);
    await close();
    t.same(await objectsOf(gw.instance), { containers: [], volumes: [] });
  });
});

t.test('after a kill -9, the next process removes the unclaimed pooled containers, keeps the claimed sandbox, and fills a new pool', async (t) => {
  const instance = `${TEST_INSTANCE}-pool-restart`;
  const dataDir = await mkdtemp(join(tmpdir(), 'slipway-pool-restart-'));
  const env = { ...POOL_ENV, SLIPWAY_POOL: JSON.stringify({ sh: 1 }), SLIPWAY_DATA_DIR: dataDir, SLIPWAY_INSTANCE: instance };
  let gw: GatewayProcess | undefined;
  t.teardown(async () => {
    await gw?.kill('SIGKILL');
    await removeAllOf(instance);
    await rm(dataDir, { recursive: true, force: true });
  });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(gw!.url + path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : null });
    return { status: res.status, body: (await res.json()) as any };
  };
  const idle = () => waitFor(async () => (await api('GET', '/readyz')).body.details?.['pool sh']?.startsWith('idle 1/1'), { what: 'a full pool', timeoutMs: 30_000 });

  gw = await spawnGateway(env);
  await idle();
  const box = (await api('POST', '/v1/sandboxes', { language: 'sh' })).body;
  t.ok((await inspectContainer(box.container_id)).Config.Labels[LABEL_KIND] === 'pool', 'the sandbox took a pooled container');
  await idle();
  const leftover = [...(await pooledOnEngine(instance)).keys()].filter((id) => id !== box.container_id);
  t.equal(leftover.length, 1, 'one unclaimed pooled container when the process dies');

  await gw.kill('SIGKILL');
  gw = await spawnGateway(env);
  await idle();
  for (const id of leftover) await t.rejects(inspectContainer(id), { message: /no such container/i }, 'the earlier process\'s unclaimed one was removed');
  t.match((await api('GET', `/v1/sandboxes/${box.sandbox_id}`)).body, { state: 'running', container_id: box.container_id }, 'the claimed sandbox is kept');
  t.equal((await api('POST', `/v1/sandboxes/${box.sandbox_id}/exec`, { command: ['echo', 'still here'] })).body.stdout, 'still here\n');
  const fresh = [...(await pooledOnEngine(instance)).keys()].filter((id) => id !== box.container_id);
  t.equal(fresh.length, 1, 'a new pooled container');
  t.notOk(leftover.includes(fresh[0]!), 'not the old one adopted');

  t.equal((await api('DELETE', `/v1/sandboxes/${box.sandbox_id}`)).status, 200);
  await gw.kill('SIGTERM');
  gw = undefined;
  t.same(await objectsOf(instance), { containers: [], volumes: [] }, 'a graceful stop leaves nothing');
});
