import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RunLogs } from '../../lib/run-log.js';
import { enforceStorageBudget } from '../../lib/run-retention.js';
import { RunStore } from '../../lib/run-store.js';
import type { RunResult } from '../../schemas/run-result.js';

/** A store and logs in a fresh directory, and a way to record a finished run with `logBytes` of log. */
function storage(t: { testdir(): string; teardown(fn: () => void): void }) {
  const dir = t.testdir();
  const store = new RunStore(dir);
  const logs = new RunLogs(join(dir, 'logs'), 1024 * 1024);
  t.teardown(() => store.close());
  let second = 0;
  const finished = (id: string, owner: string | null, logBytes: number, stdout = ''): void => {
    store.insert({ id, kind: 'image', image: 'busybox', owner, idempotencyKey: null, requestHash: null, timeoutMs: 1000 });
    logs.start(id);
    logs.append(id, 'stdout', 'x'.repeat(logBytes), logBytes);
    logs.finish(id);
    second += 1;
    const at = `2026-01-01T00:00:${String(second).padStart(2, '0')}.000Z`;
    store.finish(id, { success: true, exit_code: 0, stdout, stderr: '', execution_time: 0, error_message: null, run_id: id, status: 'succeeded', container_id: null, image: 'busybox', started_at: at, finished_at: at, stdout_truncated: false, stderr_truncated: false } satisfies RunResult, false);
  };
  return { store, logs, finished };
}

t.test('beyond the record count, an owner\'s oldest finished runs are deleted with their logs; other owners are untouched', async (t) => {
  const { store, logs, finished } = storage(t);
  for (const id of ['a1', 'a2', 'a3', 'a4']) finished(id, 'alice', 10);
  finished('b1', 'bob', 10);
  t.strictSame(enforceStorageBudget(store, logs, 'alice', { maxBytesPerCaller: Infinity, maxRecordsPerCaller: 2 }), ['a2', 'a1']);
  t.strictSame(store.finishedOf('alice').map((r) => r.id), ['a4', 'a3']);
  t.notOk(existsSync(logs.path('a1')), 'the log went with the record');
  t.ok(store.get('b1'), 'bob keeps his run');
});

t.test('beyond the byte budget (logs and records weighed together), the oldest go; the newest is kept even alone over it', async (t) => {
  const { store, logs, finished } = storage(t);
  finished('old', 'alice', 1000);
  finished('mid', 'alice', 1000, 'y'.repeat(1000));
  finished('new', 'alice', 1000);
  const deleted = enforceStorageBudget(store, logs, 'alice', { maxBytesPerCaller: 3000, maxRecordsPerCaller: 100 });
  t.strictSame(deleted, ['mid', 'old'], 'mid\'s record output tipped it over');
  t.strictSame(enforceStorageBudget(store, logs, 'alice', { maxBytesPerCaller: 10, maxRecordsPerCaller: 100 }), [], 'the newest stays');
  t.ok(store.get('new'));
});

t.test('an open server\'s runs (no owner) are held to the budget too', async (t) => {
  const { store, logs, finished } = storage(t);
  for (const id of ['o1', 'o2', 'o3']) finished(id, null, 10);
  t.strictSame(enforceStorageBudget(store, logs, null, { maxBytesPerCaller: Infinity, maxRecordsPerCaller: 1 }), ['o2', 'o1']);
});
