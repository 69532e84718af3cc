// The run manager's idempotency keys against a real run store (SQLite in a test
// directory) and a plan that fails the way the engine makes runs fail.
import t from 'tap';
import { join } from 'node:path';
import { pino } from 'pino';
import { ActiveRuns } from '../../lib/active-runs.js';
import { SlipwayError } from '../../lib/errors.js';
import { RunLogs } from '../../lib/run-log.js';
import { RunQueue } from '../../lib/run-queue.js';
import { RunStore } from '../../lib/run-store.js';
import { RunManager, type RunPlan } from '../../lib/runs.js';
import type { RunOutcome } from '../../lib/run-record.js';

function manager(t: { testdir(): string; teardown(fn: () => void): void }): { runs: RunManager; store: RunStore } {
  const dir = t.testdir();
  const store = new RunStore(dir);
  t.teardown(() => store.close());
  const runs = new RunManager(store, new RunLogs(join(dir, 'logs'), 1024 * 1024), new RunQueue(2, 2, 1), new ActiveRuns(), pino({ level: 'silent' }));
  return { runs, store };
}

/** A plan whose executions are counted; each one does what `outcomes` says next. */
function plan(outcomes: ((ctx: Parameters<RunPlan['execute']>[0]) => Promise<RunOutcome>)[]): RunPlan & { executions: number } {
  const p = {
    kind: 'image' as const,
    image: 'busybox:1.36',
    timeoutMs: 60_000,
    request: { image: 'busybox:1.36' },
    executions: 0,
    execute: (ctx: Parameters<RunPlan['execute']>[0]) => outcomes[p.executions++]!(ctx),
  };
  return p;
}

const pullFails = async (): Promise<RunOutcome> => {
  throw new SlipwayError('SLIPWAY_ERR_PULL_FAILED', 'cannot pull busybox:1.36: no such host', { field: 'image' });
};
const succeeds = async ({ runId }: { runId: string }): Promise<RunOutcome> => ({
  result: {
    success: true, exit_code: 0, stdout: 'ok', stderr: '', execution_time: 0.1, error_message: null, run_id: runId, status: 'succeeded',
    container_id: 'c1', image: 'busybox:1.36', started_at: null, finished_at: null, stdout_truncated: false, stderr_truncated: false,
  },
});

t.test('a run that failed before any container started does not pin its idempotency key: the retry runs anew', async (t) => {
  const { runs } = manager(t);
  const p = plan([pullFails, succeeds]);
  await t.rejects(runs.start(p, { wait: true, idempotencyKey: 'k1' }), { code: 'SLIPWAY_ERR_PULL_FAILED' });
  const retried = await runs.start(p, { wait: true, idempotencyKey: 'k1' });
  t.equal(p.executions, 2, 'executed a second time');
  t.match(retried, { status: 'succeeded', stdout: 'ok' });
  const again = await runs.start(p, { wait: true, idempotencyKey: 'k1' });
  t.equal(p.executions, 2, 'a succeeded run is replayed, not run again');
  t.equal(again.run_id, retried.run_id);
});

t.test('the failed attempt stays on record with its error message', async (t) => {
  const { runs, store } = manager(t);
  await t.rejects(runs.start(plan([pullFails]), { wait: true, idempotencyKey: 'k2' }));
  const [failed] = store.list({ limit: 10 });
  t.match(failed, { status: 'error', error_message: 'cannot pull busybox:1.36: no such host', error_code: 'SLIPWAY_ERR_PULL_FAILED' });
});

t.test('a replay of a run that failed after its container started answers the same error, not a result', async (t) => {
  const { runs } = manager(t);
  const failsWhileRunning = async ({ emit }: Parameters<RunPlan['execute']>[0]): Promise<RunOutcome> => {
    emit({ type: 'status', status: 'running', container_id: 'c2' });
    throw new SlipwayError('SLIPWAY_ERR_ENGINE', 'engine error: the engine lost the container');
  };
  const p = plan([failsWhileRunning, succeeds]);
  await t.rejects(runs.start(p, { wait: true, idempotencyKey: 'k3' }), { code: 'SLIPWAY_ERR_ENGINE' });
  await t.rejects(runs.start(p, { wait: true, idempotencyKey: 'k3' }), { code: 'SLIPWAY_ERR_ENGINE', statusCode: 502, message: 'engine error: the engine lost the container' });
  t.equal(p.executions, 1, 'not run again: a container had started');
});
