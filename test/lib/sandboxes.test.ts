// Sandbox lifetime above the seam, on the fake runtime: the sweep (TTL, idle, busy),
// per-caller bounds, ownership, what a restart keeps, and that a timed-out exec is
// followed by the agent's kill.
import t from 'tap';
import type { Caller } from '../../lib/caller.js';
import { LABEL_SANDBOX_ID } from '../../lib/labels.js';
import type { ExecOutcome } from '../../lib/runtime/container-runtime.js';
import { fakeSlipway } from '../fixtures/fake-slipway.js';
import { FakeRuntime } from '../fixtures/fake-runtime.js';

const IMAGE = 'busybox:1';
const ENV = { SLIPWAY_SANDBOX_MAX_PER_CALLER: '2', SLIPWAY_SANDBOX_MEMORY_PER_CALLER_BYTES: String(300 * 1024 * 1024) };

function setUp(t: Parameters<typeof fakeSlipway>[0], options: { runtime?: FakeRuntime; dataDir?: string } = {}) {
  const runtime = options.runtime ?? new FakeRuntime();
  runtime.images.set(IMAGE, { id: 'sha256:busybox', digest: null, labels: {} });
  return fakeSlipway(t, { runtime, env: ENV, ...(options.dataDir ? { dataDir: options.dataDir } : {}) });
}

function caller(slipway: { openCaller: Caller }, name: string): Caller {
  return { ...slipway.openCaller, name, seesAll: false };
}

const sandboxContainers = (runtime: FakeRuntime) => [...runtime.containers.values()].filter((c) => c.labels[LABEL_SANDBOX_ID]);

t.test('the sweep deletes a sandbox past its TTL or idle past its timeout, and leaves a used one alone', async (t) => {
  const { slipway, runtime } = setUp(t);
  const ttl = await slipway.createSandbox({ image: IMAGE, memory_limit: '64m', ttl_seconds: 10, idle_timeout_seconds: 10 });
  const idle = await slipway.createSandbox({ image: IMAGE, memory_limit: '64m', ttl_seconds: 100, idle_timeout_seconds: 5 });
  const now = Date.now();
  t.same(await slipway.sandboxes.sweep(new Date(now + 1000)), [], 'nothing is due yet');
  await slipway.sandboxExec({ sandbox_id: ttl.sandbox_id, command: 'true' });
  t.same(await slipway.sandboxes.sweep(new Date(now + 6000)), [idle.sandbox_id], 'the idle one goes; the used one stays');
  t.same(await slipway.sandboxes.sweep(new Date(now + 10_500)), [ttl.sandbox_id], 'use does not extend the TTL');
  t.same(sandboxContainers(runtime), [], 'their containers are gone');
  t.same([...runtime.storage.keys()].filter((name) => name.startsWith('agent-')), [], 'and their storage');
});

t.test('a sandbox with an exec under way is not idle', async (t) => {
  const { slipway, runtime } = setUp(t);
  const box = await slipway.createSandbox({ image: IMAGE, memory_limit: '64m', idle_timeout_seconds: 1 });
  let finish!: (o: ExecOutcome) => void;
  runtime.execBehaviour = () => new Promise((resolve) => (finish = resolve));
  const running = slipway.sandboxExec({ sandbox_id: box.sandbox_id, command: 'sleep 100' });
  await t.resolves(new Promise((r) => setTimeout(r, 10)));
  t.same(await slipway.sandboxes.sweep(new Date(Date.now() + 5000)), [], 'kept while the exec runs');
  finish({ exitCode: 0, stdout: '', stderr: '', timedOut: false });
  await running;
  t.same(await slipway.sandboxes.sweep(new Date(Date.now() + 5000)), [box.sandbox_id], 'idle again once it ended');
});

t.test('per-caller bounds refuse a sandbox too many (429) or too much memory (403), and create nothing', async (t) => {
  const { slipway, runtime } = setUp(t);
  const alice = caller(slipway, 'alice');
  await slipway.createSandbox({ image: IMAGE, memory_limit: '200m' }, alice);
  await t.rejects(slipway.createSandbox({ image: IMAGE, memory_limit: '200m' }, alice), { code: 'SLIPWAY_ERR_POLICY_DENIED', field: 'memory_limit' });
  await slipway.createSandbox({ image: IMAGE, memory_limit: '64m' }, alice);
  await t.rejects(slipway.createSandbox({ image: IMAGE, memory_limit: '6m' }, alice), { code: 'SLIPWAY_ERR_RATE_LIMITED' });
  await t.rejects(slipway.createSandbox({ image: IMAGE, ttl_seconds: 10 ** 7 }, caller(slipway, 'bob')), { code: 'SLIPWAY_ERR_POLICY_DENIED', field: 'ttl_seconds' });
  t.equal(sandboxContainers(runtime).length, 2, 'only the two admitted sandboxes exist');
  t.equal((await slipway.createSandbox({ image: IMAGE, memory_limit: '200m' }, caller(slipway, 'bob'))).owner, 'bob', 'another caller has bounds of its own');
});

t.test('another caller\'s sandbox is not found, for every operation', async (t) => {
  const { slipway } = setUp(t);
  const box = await slipway.createSandbox({ image: IMAGE, memory_limit: '64m' }, caller(slipway, 'alice'));
  const bob = caller(slipway, 'bob');
  const notFound = { code: 'SLIPWAY_ERR_SANDBOX_NOT_FOUND' };
  t.throws(() => slipway.sandboxes.get(box.sandbox_id, bob), notFound);
  t.throws(() => slipway.sandboxes.extendTtl({ sandbox_id: box.sandbox_id, ttl_seconds: 10 }, bob), notFound);
  await t.rejects(slipway.sandboxExec({ sandbox_id: box.sandbox_id, command: 'true' }, { caller: bob }), notFound);
  await t.rejects(slipway.sandboxes.delete(box.sandbox_id, bob), notFound);
  await t.rejects(slipway.readSandboxFile({ sandbox_id: box.sandbox_id, path: 'a' }, bob), notFound);
  await t.rejects(slipway.writeSandboxFiles({ sandbox_id: box.sandbox_id, files: [{ path: 'a', content: 'b' }] }, bob), notFound);
  t.same(slipway.sandboxes.list(bob), []);
  t.equal(slipway.sandboxes.list(caller(slipway, 'alice')).length, 1);
});

t.test('a restart keeps a live sandbox and drops records whose container is gone or whose time is up', async (t) => {
  const runtime = new FakeRuntime();
  const first = setUp(t, { runtime });
  const live = await first.slipway.createSandbox({ image: IMAGE, memory_limit: '64m' });
  const lost = await first.slipway.createSandbox({ image: IMAGE, memory_limit: '64m' });
  await first.slipway.shutdown();
  first.slipway.close();
  await runtime.remove(lost.container_id!);

  const second = setUp(t, { runtime, dataDir: first.dataDir });
  await second.slipway.init();
  t.same(second.slipway.sandboxes.list(second.slipway.openCaller).map((s) => s.sandbox_id), [live.sandbox_id]);
  t.ok(runtime.containers.has(live.container_id!), 'run reconciliation kept the live sandbox\'s container');
  t.ok(runtime.storage.has(`agent-${live.sandbox_id}`), 'and its storage');
});

t.test('a timed-out exec is followed by the agent killing its processes, and ends timed_out', async (t) => {
  const { slipway, runtime } = setUp(t);
  const box = await slipway.createSandbox({ image: IMAGE, memory_limit: '64m' });
  const seen: string[][] = [];
  runtime.execBehaviour = async (spec) => {
    seen.push(spec.cmd);
    return seen.length === 1 ? { exitCode: null, stdout: 'partial', stderr: '', timedOut: true } : { exitCode: 0, stdout: '', stderr: '', timedOut: false };
  };
  const result = await slipway.sandboxExec({ sandbox_id: box.sandbox_id, command: 'sleep 100', timeout: 1 });
  t.match(result, { status: 'timed_out', success: false, stdout: 'partial' });
  t.equal(seen.length, 2, 'a second exec: the kill');
  t.match(seen[1]!.join(' '), /busybox sh -c[\s\S]*kill -9[\s\S]*slipway-agent .*/, 'the agent\'s kill script');
  t.equal(seen[1]!.at(-1), result.run_id, 'aimed at the processes marked with this run\'s id');
});

t.test('without the agent binary a sandbox create fails naming the setting, and creates nothing', async (t) => {
  const runtime = new FakeRuntime();
  runtime.images.set(IMAGE, { id: 'sha256:busybox', digest: null, labels: {} });
  const { slipway } = fakeSlipway(t, { runtime, env: { SLIPWAY_SANDBOX_AGENT_BINARY: '/nonexistent/busybox' } });
  await t.rejects(slipway.createSandbox({ image: IMAGE }), { code: 'SLIPWAY_ERR_UNSUPPORTED', message: /SLIPWAY_SANDBOX_AGENT_BINARY.*busybox-static/ });
  t.same(slipway.sandboxes.list(slipway.openCaller), []);
  t.same(sandboxContainers(runtime), []);
});

t.test('an exec under way when the gateway died ends error after the restart, and its processes are killed by its marker', async (t) => {
  const runtime = new FakeRuntime();
  const first = setUp(t, { runtime });
  const box = await first.slipway.createSandbox({ image: IMAGE, memory_limit: '64m' });
  const seen: string[][] = [];
  // The first process's exec ends only when aborted (its teardown): that process "dies" by another starting on its data.
  runtime.execBehaviour = (spec, signal) => {
    seen.push(spec.cmd);
    if (seen.length > 1) return Promise.resolve({ exitCode: 0, stdout: '', stderr: '', timedOut: false });
    return new Promise((resolve) => signal?.addEventListener('abort', () => resolve({ exitCode: null, stdout: '', stderr: '', timedOut: false, aborted: true })));
  };
  const started = await first.slipway.sandboxExec({ sandbox_id: box.sandbox_id, command: 'sleep 100', wait: false });
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(first.slipway.runs.get(started.run_id).status, 'running');

  const second = setUp(t, { runtime, dataDir: first.dataDir });
  await second.slipway.init();
  t.match(await second.slipway.runs.completion(started.run_id), { status: 'error', error_message: /gateway restarted during the exec/ });
  t.equal(seen.length, 2, 'one more exec: the kill');
  t.match(seen[1]!.join(' '), /kill -9/, 'the agent\'s kill script');
  t.equal(seen[1]!.at(-1), started.run_id, 'aimed at the processes marked with this run\'s id');
  t.same(second.slipway.sandboxes.list(second.slipway.openCaller).map((s) => s.sandbox_id), [box.sandbox_id], 'the sandbox stays');
});
