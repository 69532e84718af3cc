// The run manager (lib/runs.ts) against the fake runtime: the lifecycle of a run record
// and the races that are slow or flaky on a real engine, played step by step.
import t from 'tap';
import { LABEL_RUN_ID } from '../../lib/labels.js';
import { FakeRuntime } from '../fixtures/fake-runtime.js';
import { fakeSlipway } from '../fixtures/fake-slipway.js';
import { waitFor } from '../fixtures/wait.js';

const IMAGE = 'busybox:latest';

function withImage(runtime = new FakeRuntime()): FakeRuntime {
  runtime.images.set(IMAGE, { id: 'sha256:busybox', digest: null, labels: {} });
  return runtime;
}

t.test('a waited-for run answers its result and its record says the same', async (t) => {
  const runtime = withImage();
  runtime.behaviour = () => ({ exitCode: 0, stdout: 'hello\n' });
  const { slipway } = fakeSlipway(t, { runtime });
  const result = await slipway.runImage({ image: IMAGE, command: ['echo', 'hello'] });
  t.match(result, { status: 'succeeded', exit_code: 0, stdout: 'hello\n', success: true });
  t.match(slipway.runs.get(result.run_id), { status: 'succeeded', exit_code: 0, container_id: result.container_id });
  t.equal(runtime.containers.size, 0, 'the container is removed');
});

t.test('a run not waited for answers queued at once, then ends as the process does', async (t) => {
  const runtime = withImage();
  runtime.behaviour = () => 'hold';
  const { slipway } = fakeSlipway(t, { runtime });
  const queued = await slipway.runImage({ image: IMAGE, command: ['sleep', '9'], wait: false });
  t.equal(queued.status, 'queued');
  await waitFor(() => runtime.containerOf(queued.run_id), { what: 'the run\'s container' });
  t.equal(slipway.runs.get(queued.run_id).status, 'running');
  runtime.exit(queued.run_id, { exitCode: 3, stderr: 'boom\n' });
  t.match(await slipway.runs.completion(queued.run_id), { status: 'failed', exit_code: 3, stderr: 'boom\n' });
});

t.test('a run cancelled while it waits for a slot never reaches the runtime', async (t) => {
  const runtime = withImage();
  runtime.behaviour = () => 'hold';
  const { slipway } = fakeSlipway(t, { runtime, env: { SLIPWAY_MAX_CONCURRENT_RUNS: '1' } });
  const first = await slipway.runImage({ image: IMAGE, command: ['sleep', '9'], wait: false });
  await waitFor(() => runtime.containerOf(first.run_id), { what: 'the first run\'s container' });
  const second = await slipway.runImage({ image: IMAGE, command: ['echo', 'late'], wait: false });
  t.equal(slipway.runs.get(second.run_id).status, 'queued', 'the second run waits for the only slot');
  const cancelled = await slipway.runs.cancel(second.run_id);
  t.match(cancelled, { status: 'cancelled', error_message: 'run was cancelled before it started', container_id: null });
  t.notOk(runtime.calls.includes(`run ${second.run_id}`), 'the runtime was never asked to run it');
  runtime.exit(first.run_id, { exitCode: 0 });
  t.equal((await slipway.runs.completion(first.run_id)).status, 'succeeded', 'the first run is untouched');
});

t.test('a run cancelled while it runs ends cancelled and its container is removed', async (t) => {
  const runtime = withImage();
  runtime.behaviour = () => 'hold';
  const { slipway } = fakeSlipway(t, { runtime });
  const run = await slipway.runImage({ image: IMAGE, command: ['sleep', '9'], wait: false });
  const container = await waitFor(() => runtime.containerOf(run.run_id), { what: 'the run\'s container' });
  const cancelled = await slipway.runs.cancel(run.run_id);
  t.match(cancelled, { status: 'cancelled', container_id: container.id });
  t.notOk(runtime.containers.has(container.id), 'the container is removed');
  await t.rejects(slipway.runs.cancel(run.run_id), { code: 'SLIPWAY_ERR_CONFLICT' }, 'a second cancel is a conflict');
});

t.test('a run whose engine goes away mid-run ends error, and a waiting caller gets 503', async (t) => {
  const runtime = withImage();
  runtime.behaviour = () => 'hold';
  const { slipway } = fakeSlipway(t, { runtime });
  const waiting = slipway.runImage({ image: IMAGE, command: ['sleep', '9'] });
  const container = await waitFor(() => [...runtime.containers.values()][0], { what: 'the run\'s container' });
  runtime.goAway();
  await t.rejects(waiting, { code: 'SLIPWAY_ERR_ENGINE_UNAVAILABLE', statusCode: 503 });
  const runId = container.labels[LABEL_RUN_ID] ?? '';
  runtime.comeBack();
  t.match(slipway.runs.get(runId), { status: 'error', error_message: 'the Docker engine is not reachable' });
  t.ok(runtime.containers.has(container.id), 'the container is left for reconciliation, not half removed');
});

t.test('a run that passes its timeout ends timed_out', async (t) => {
  const runtime = withImage();
  runtime.behaviour = () => 'hold';
  const { slipway } = fakeSlipway(t, { runtime });
  const result = await slipway.runImage({ image: IMAGE, command: ['sleep', '9'], timeout: 1 });
  t.match(result, { status: 'timed_out', success: false });
});

t.test('an idempotency key replays its run, and refuses another request', async (t) => {
  const runtime = withImage();
  const { slipway } = fakeSlipway(t, { runtime });
  const first = await slipway.runImage({ image: IMAGE, command: ['echo', 'once'], idempotency_key: 'k1' });
  const again = await slipway.runImage({ image: IMAGE, command: ['echo', 'once'], idempotency_key: 'k1', wait: false });
  t.equal(again.run_id, first.run_id);
  t.equal(runtime.calls.filter((c) => c.startsWith('run ')).length, 1, 'the runtime ran it once');
  await t.rejects(slipway.runImage({ image: IMAGE, command: ['echo', 'other'], idempotency_key: 'k1' }), { code: 'SLIPWAY_ERR_CONFLICT', field: 'idempotency_key' });
});

t.test('shutdown cancels every run under way and waits for their records', async (t) => {
  const runtime = withImage();
  runtime.behaviour = () => 'hold';
  const { slipway } = fakeSlipway(t, { runtime });
  const runs = await Promise.all([1, 2].map(() => slipway.runImage({ image: IMAGE, command: ['sleep', '9'], wait: false })));
  await waitFor(() => runs.every((r) => runtime.containerOf(r.run_id)), { what: 'both containers' });
  await slipway.shutdown();
  for (const r of runs) t.equal(slipway.runs.get(r.run_id).status, 'cancelled');
  t.equal(runtime.containers.size, 0, 'nothing is left on the engine');
});
