// The warm pool above the seam, on the fake runtime: concurrent claims, refills, the
// back-off of failing creates, broken containers, draining, and what a restart keeps.
import t, { type Test } from 'tap';
import { pino } from 'pino';
import { LABEL_KIND, LABEL_SANDBOX_ID, poolLabels } from '../../lib/labels.js';
import { NO_METRICS } from '../../lib/metrics.js';
import type { ResolvedLimits } from '../../lib/policy.js';
import type { SandboxSpec } from '../../lib/runtime/container-runtime.js';
import { WarmPool, type WarmPoolDeps } from '../../lib/sandboxes/warm-pool.js';
import { FakeRuntime } from '../fixtures/fake-runtime.js';
import { FAKE_INSTANCE, fakeSlipway } from '../fixtures/fake-slipway.js';
import { settle, waitFor } from '../fixtures/wait.js';

const IMAGE = 'busybox:1.36';
const LIMITS: ResolvedLimits = { memoryBytes: 64 * 1024 * 1024, nanoCpus: 1e9, pidsLimit: 64, timeoutMs: 60_000, networkMode: 'none', readOnlyRootfs: true };

function makePool(t: Test, size: number, overrides: Partial<WarmPoolDeps> = {}) {
  const runtime = new FakeRuntime();
  const pool = new WarmPool({
    runtime,
    instance: FAKE_INSTANCE,
    settings: { entries: [{ key: 'sh', image: IMAGE, env: {}, size }], checkIntervalSeconds: 3600 },
    limits: LIMITS,
    spec: async (sandboxId, entry, labels): Promise<SandboxSpec> => ({
      sandboxId, image: entry.image, env: entry.env, workingDir: '/workspace', user: '65534:65534', labels, limits: LIMITS,
      keepAlive: ['sleep'], keepAliveUser: '65533:65533', workspace: { dir: '/workspace', sizeBytes: 1024 }, agent: { dir: '/.slipway', files: [] },
    }),
    ensureImage: async () => undefined,
    metrics: NO_METRICS,
    log: pino({ level: 'silent' }),
    ...overrides,
  });
  t.teardown(() => pool.drain());
  return { runtime, pool };
}

const pooled = (runtime: FakeRuntime) => [...runtime.containers.values()].filter((c) => c.labels[LABEL_KIND] === 'pool');
const idle = (pool: WarmPool) => pool.state()[0]!.idle;
const full = (pool: WarmPool, size: number) => waitFor(() => idle(pool) === size && pool.state()[0]!.replenishing === 0, { what: 'a full pool' });

t.test('concurrent claims never share a container; claims beyond the idle ones are misses; every claim refills', async (t) => {
  const { runtime, pool } = makePool(t, 3);
  pool.start();
  await full(pool, 3);
  const before = new Set(pooled(runtime).map((c) => c.id));
  const claims = await Promise.all([0, 1, 2, 3, 4].map(() => pool.claim(IMAGE)));
  const got = claims.filter((c) => c !== undefined);
  t.equal(got.length, 3, 'three claims got a container');
  t.equal(new Set(got.map((c) => c.containerId)).size, 3, 'three different ones');
  t.ok(got.every((c) => before.has(c.containerId)), 'each from the pool');
  t.equal(pool.state()[0]!.misses, 2, 'the other two are misses');
  await full(pool, 3);
  const refilled = (await Promise.all([0, 1, 2].map(() => pool.claim(IMAGE)))).filter((c) => c !== undefined);
  t.equal(refilled.length, 3, 'the pool refilled');
  t.notOk(refilled.some((c) => before.has(c.containerId)), 'with new containers, never a claimed one again');
  t.equal(pool.state()[0]!.claimed, 6);
  for (const c of [...got, ...refilled]) await c.discard();
  t.equal(pool.state()[0]!.claimed, 0, 'discard releases the count');
  t.same(pooled(runtime).map((c) => c.labels[LABEL_SANDBOX_ID]).sort(), [...pool.ids()].sort(), 'only the idle ones are left');
});

t.test('a claim matches image, environment, limits and runtime exactly; a mismatch is not a miss', async (t) => {
  const { pool } = makePool(t, 1);
  pool.start();
  await full(pool, 1);
  t.equal(await pool.claim('other:1'), undefined, 'an image the pool does not hold');
  t.equal(await pool.claim(IMAGE, { env: { A: '1' } }), undefined, 'another environment');
  t.equal(await pool.claim(IMAGE, { limits: { ...LIMITS, memoryBytes: LIMITS.memoryBytes * 2 } }), undefined, 'other limits');
  t.equal(await pool.claim(IMAGE, { runtime: 'runsc' }), undefined, 'another runtime');
  t.equal(pool.state()[0]!.misses, 0, 'none of those is a miss');
  t.ok(await pool.claim(IMAGE, { env: {}, limits: { ...LIMITS, timeoutMs: 5 } }), 'the same container spec (a timeout is not the container\'s) claims');
});

t.test('failing creates back off, doubling to the cap, with one attempt per wait; a success resets it', async (t) => {
  const waits: number[] = [];
  let release: (() => void) | undefined;
  const { runtime, pool } = makePool(t, 1, {
    backoff: { firstMs: 10, maxMs: 40 },
    wait: (ms, signal) => {
      waits.push(ms);
      return new Promise((resolve) => {
        release = resolve;
        signal.addEventListener('abort', () => resolve());
      });
    },
  });
  const start = runtime.startSandbox.bind(runtime);
  let attempts = 0;
  let failing = true;
  runtime.startSandbox = async (spec) => {
    attempts++;
    if (failing) throw new Error('no space left on device');
    return start(spec);
  };
  pool.start();
  for (let i = 0; i < 5; i++) {
    await waitFor(() => waits.length === i + 1, { what: `wait ${i + 1}` });
    await settle();
    t.equal(attempts, i + 1, `attempt ${i + 1}, then a wait: nothing spins`);
    t.equal(pool.state()[0]!.failures, i + 1);
    if (i < 4) release!();
  }
  t.same(waits, [10, 20, 40, 40, 40]);
  failing = false;
  release!();
  await full(pool, 1);
  t.equal(pool.state()[0]!.failures, 0, 'a success resets the back-off');
  failing = true;
  await pool.claim(IMAGE);
  await waitFor(() => waits.length === 6, { what: 'the next wait' });
  t.equal(waits[5], 10, 'and the next failure starts from the first wait again');
});

t.test('a pooled container that stopped is replaced: at claim (the claim takes the next) and by the check', async (t) => {
  const { runtime, pool } = makePool(t, 2);
  pool.start();
  await full(pool, 2);
  const [first, second] = pooled(runtime);
  first!.end({ exitCode: 137 });
  const claimed = await pool.claim(IMAGE);
  t.equal(claimed?.containerId, second!.id, 'the claim skipped the stopped one');
  await waitFor(() => !runtime.containers.has(first!.id), { what: 'the stopped one removed' });
  await full(pool, 2);

  const victim = pooled(runtime).find((c) => c.id !== second!.id)!;
  victim.end({ exitCode: 137 });
  await pool.check();
  t.notOk(runtime.containers.has(victim.id), 'the check removed it');
  await full(pool, 2);
  t.notOk(pool.ids().has(victim.labels[LABEL_SANDBOX_ID]!), 'and replaced it');
});

t.test('drain waits for a create under way and removes every idle container; claimed ones stay their owners\'', async (t) => {
  const { runtime, pool } = makePool(t, 2);
  const start = runtime.startSandbox.bind(runtime);
  let unblock!: () => void;
  const blocked = new Promise<void>((resolve) => (unblock = resolve));
  let calls = 0;
  runtime.startSandbox = async (spec) => {
    if (++calls === 3) await blocked;
    return start(spec);
  };
  pool.start();
  await full(pool, 2);
  const claimed = await pool.claim(IMAGE);
  await waitFor(() => calls === 3, { what: 'the refill under way' });
  const drained = pool.drain();
  await settle();
  unblock();
  await drained;
  t.same(pooled(runtime).map((c) => c.id), [claimed!.containerId], 'only the claimed container is left');
  t.equal(await pool.claim(IMAGE), undefined, 'a drained pool gives nothing');
  t.same(runtime.storage.size, 1, 'and only its storage');
});

t.test('a sandbox create claims from the pool, a refused one claims nothing, and a restart keeps the claimed sandbox but not an earlier process\'s unclaimed containers', async (t) => {
  const runtime = new FakeRuntime();
  runtime.images.set(IMAGE, { id: 'sha256:busybox', digest: null, labels: {} });
  const env = { SLIPWAY_POOL: JSON.stringify({ [IMAGE]: 1 }), SLIPWAY_SANDBOX_MAX_PER_CALLER: '1' };
  const first = fakeSlipway(t, { runtime, env });
  await first.slipway.init();
  await full(first.slipway.pool, 1);
  const idleId = pooled(runtime)[0]!.id;
  const box = await first.slipway.createSandbox({ image: IMAGE, working_dir: 'src' });
  t.equal(box.container_id, idleId, 'the create took the pooled container');
  t.equal(runtime.containers.get(idleId)!.labels[LABEL_SANDBOX_ID], box.sandbox_id, 'whose label carries the sandbox id');
  t.equal(box.working_dir, '/workspace/src', 'a working directory does not keep a create from the pool');
  await full(first.slipway.pool, 1);
  const refill = pooled(runtime).find((c) => c.id !== idleId)!.id;
  await t.rejects(first.slipway.createSandbox({ image: IMAGE }), { code: 'SLIPWAY_ERR_RATE_LIMITED' });
  t.ok(runtime.containers.has(refill) && first.slipway.pool.state()[0]!.idle === 1, 'a create refused by the quota claims nothing');

  // The process dies without draining: its idle container stays behind on the engine.
  const leftover = runtime.seed({ labels: poolLabels(FAKE_INSTANCE, 'leftover-sandbox', IMAGE), image: IMAGE, state: 'running' });
  await first.slipway.shutdown();
  const second = fakeSlipway(t, { runtime, env, dataDir: first.dataDir });
  await second.slipway.init();
  await full(second.slipway.pool, 1);
  t.notOk(runtime.containers.has(leftover.id), 'the unclaimed pooled container of the earlier process is removed');
  t.match(second.slipway.sandboxes.get(box.sandbox_id, second.slipway.openCaller), { state: 'running', container_id: idleId }, 'the claimed sandbox is kept');
  t.ok(runtime.containers.has(idleId), 'with its container');
  await second.slipway.sandboxes.delete(box.sandbox_id, second.slipway.openCaller);
  t.notOk(runtime.containers.has(idleId), 'delete removes it');
});

t.test('a claimed sandbox is its creator\'s alone, and the sweep deletes it like any other, releasing it from the pool\'s count', async (t) => {
  const runtime = new FakeRuntime();
  runtime.images.set(IMAGE, { id: 'sha256:busybox', digest: null, labels: {} });
  const { slipway } = fakeSlipway(t, { runtime, env: { SLIPWAY_POOL: JSON.stringify({ [IMAGE]: 1 }) } });
  await slipway.init();
  await full(slipway.pool, 1);
  const alice = { ...slipway.openCaller, name: 'alice', seesAll: false };
  const bob = { ...slipway.openCaller, name: 'bob', seesAll: false };
  const box = await slipway.createSandbox({ image: IMAGE, ttl_seconds: 60 }, alice);
  t.equal(runtime.containers.get(box.container_id!)?.labels[LABEL_KIND], 'pool', 'from the pool');
  t.equal(box.owner, 'alice');
  t.throws(() => slipway.sandboxes.get(box.sandbox_id, bob), { code: 'SLIPWAY_ERR_SANDBOX_NOT_FOUND' }, 'another caller does not see it');
  t.same(slipway.sandboxes.list(bob), []);
  t.equal(slipway.pool.state()[0]!.claimed, 1);
  t.same(await slipway.sandboxes.sweep(new Date(Date.now() + 61_000)), [box.sandbox_id], 'the sweep deletes it at its TTL');
  t.notOk(runtime.containers.has(box.container_id!), 'with its container');
  t.equal(slipway.pool.state()[0]!.claimed, 0, 'and the pool no longer counts it');
});
