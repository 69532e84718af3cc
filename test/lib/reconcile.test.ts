// Reconciliation after a restart (lib/reconcile.ts) against the fake runtime: the
// records a killed gateway left behind are brought into agreement with what the
// backend still has, deterministically, without killing a real process.
import { join } from 'node:path';
import t from 'tap';
import { LABEL_AGENT, LABEL_INSTANCE, runLabels } from '../../lib/labels.js';
import { RunLogs } from '../../lib/run-log.js';
import { RunStore } from '../../lib/run-store.js';
import { FakeRuntime } from '../fixtures/fake-runtime.js';
import { FAKE_INSTANCE, fakeSlipway } from '../fixtures/fake-slipway.js';
import { waitFor } from '../fixtures/wait.js';

const IMAGE = 'busybox:latest';
const RUNNING = '00000000-0000-4000-8000-000000000001';
const FINISHED = '00000000-0000-4000-8000-000000000002';
const VANISHED = '00000000-0000-4000-8000-000000000003';
const NEVER_STARTED = '00000000-0000-4000-8000-000000000004';
const STRAY = '00000000-0000-4000-8000-000000000005';

/** What a gateway killed mid-run leaves in its data directory: records still `running`, and their logs. */
function leftByKilledGateway(dataDir: string, runtime: FakeRuntime): void {
  const store = new RunStore(dataDir);
  const logs = new RunLogs(join(dataDir, 'logs'), 1024 * 1024);
  const startedAt = new Date(Date.now() - 1000).toISOString();
  for (const id of [RUNNING, FINISHED, VANISHED, NEVER_STARTED]) {
    store.insert({ id, kind: 'image', image: IMAGE, owner: null, idempotencyKey: null, requestHash: null, timeoutMs: 60_000 });
    logs.start(id);
    if (id === NEVER_STARTED) continue;
    store.setStatus(id, 'running', { started_at: startedAt });
  }
  logs.append(RUNNING, 'stdout', 'one\n', 4);
  for (const id of [RUNNING, FINISHED, VANISHED, NEVER_STARTED]) logs.finish(id);
  store.close();
  runtime.seed({ labels: runLabels(FAKE_INSTANCE, RUNNING, 'image'), state: 'running' });
  runtime.seed({ labels: runLabels(FAKE_INSTANCE, FINISHED, 'image'), state: 'exited', exit: { exitCode: 7, stdout: 'done\n' } });
  runtime.seed({ labels: runLabels(FAKE_INSTANCE, NEVER_STARTED, 'image'), state: 'created' });
  runtime.seed({ labels: runLabels(FAKE_INSTANCE, STRAY, 'image'), state: 'running' });
  runtime.seed({ labels: runLabels('another-instance', STRAY, 'image'), state: 'running' });
  runtime.storage.set('vol-running', runLabels(FAKE_INSTANCE, RUNNING, 'payload'));
  runtime.storage.set('vol-stray', runLabels(FAKE_INSTANCE, STRAY, 'payload'));
}

t.test('after a restart mid-run: finished runs are recorded, live ones followed, vanished ones end error, strays removed', async (t) => {
  const runtime = new FakeRuntime();
  const first = fakeSlipway(t);
  leftByKilledGateway(first.dataDir, runtime);
  const { slipway } = fakeSlipway(t, { runtime, dataDir: first.dataDir });
  await slipway.init();

  t.match(await slipway.runs.completion(FINISHED), { status: 'failed', exit_code: 7, stdout: 'done\n' }, 'finished while down: exit code and output recorded');
  t.match(await slipway.runs.completion(VANISHED), { status: 'error', error_message: /vanished while the gateway was down/ });
  t.match(await slipway.runs.completion(NEVER_STARTED), { status: 'error', error_message: /stopped before the run started/ });

  t.equal(slipway.runs.get(RUNNING).status, 'running', 'the live run is still running, followed');
  runtime.exit(RUNNING, { exitCode: 0, stdout: 'one\ntwo\n' });
  t.match(await slipway.runs.completion(RUNNING), { status: 'succeeded', stdout: 'one\ntwo\n' });
  const logged = slipway.runLogs({ run_id: RUNNING }).events.filter((e) => e.type === 'stdout').map((e) => e.data);
  t.strictSame(logged, ['one\n', 'two\n'], 'output logged before the restart is not logged twice');

  const left = [...runtime.containers.values()].map((c) => c.labels[LABEL_INSTANCE]);
  t.strictSame(left, ['another-instance'], 'this instance\'s strays and finished containers are removed; another instance\'s are not touched');
  t.strictSame([...runtime.storage.keys()], [], 'run storage of no live run is removed, and the followed run\'s goes with it');
});

t.test('a followed run can be cancelled like any other', async (t) => {
  const runtime = new FakeRuntime();
  const first = fakeSlipway(t);
  leftByKilledGateway(first.dataDir, runtime);
  const { slipway } = fakeSlipway(t, { runtime, dataDir: first.dataDir });
  await slipway.init();
  const container = await waitFor(() => runtime.containerOf(RUNNING), { what: 'the followed container' });
  t.match(await slipway.runs.cancel(RUNNING), { status: 'cancelled' });
  t.notOk(runtime.containers.has(container.id), 'its container is removed');
});

t.test('a restart while the engine is away reconciles once it answers again', async (t) => {
  const runtime = new FakeRuntime();
  const first = fakeSlipway(t);
  leftByKilledGateway(first.dataDir, runtime);
  runtime.goAway();
  const { slipway } = fakeSlipway(t, { runtime, dataDir: first.dataDir });
  await slipway.init();
  t.equal(slipway.runs.get(FINISHED).status, 'running', 'the record waits for the engine');
  runtime.comeBack();
  slipway.sweep();
  t.match(await waitFor(() => (slipway.runs.get(FINISHED).status === 'failed' ? slipway.runs.get(FINISHED) : null), { what: 'the run to be reconciled' }), { exit_code: 7 });
});

t.test('after a restart mid-payload: a run whose program was an exec in an agent container ends error saying the gateway restarted; its container and storage go', async (t) => {
  const runtime = new FakeRuntime();
  const first = fakeSlipway(t);
  const PAYLOAD = '00000000-0000-4000-8000-000000000006';
  const store = new RunStore(first.dataDir);
  store.insert({ id: PAYLOAD, kind: 'payload', image: IMAGE, owner: null, idempotencyKey: null, requestHash: null, timeoutMs: 60_000 });
  store.setStatus(PAYLOAD, 'running', { started_at: new Date().toISOString() });
  store.close();
  runtime.seed({ labels: { ...runLabels(FAKE_INSTANCE, PAYLOAD, 'payload'), [LABEL_AGENT]: 'true' }, state: 'running' });
  runtime.storage.set('vol-agent', runLabels(FAKE_INSTANCE, PAYLOAD, 'payload'));
  const { slipway } = fakeSlipway(t, { runtime, dataDir: first.dataDir });
  await slipway.init();
  t.match(await slipway.runs.completion(PAYLOAD), { status: 'error', error_message: /gateway restarted while the run was under way/ });
  t.equal(runtime.containers.size, 0, 'its container is removed, not followed');
  t.equal(runtime.storage.size, 0, 'its storage is removed');
});
