// The housekeeping sweep (lib/maintenance.ts) with a clock the test moves: retention of
// run records and logs, build image pruning and clone directories all go by that clock.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { ActiveRuns } from '../../lib/active-runs.js';
import { CLONE_PREFIX } from '../../lib/git-clone.js';
import { Maintenance } from '../../lib/maintenance.js';
import type { PruneOptions } from '../../lib/repo-build.js';
import { RunLogs } from '../../lib/run-log.js';
import { RunQueue } from '../../lib/run-queue.js';
import { RunStore } from '../../lib/run-store.js';
import { RunManager } from '../../lib/runs.js';
import { loadConfig } from '../../server/config.js';
import { slipwaySettings } from '../../server/slipway-settings.js';
import { FakeRuntime } from '../fixtures/fake-runtime.js';
import { FAKE_INSTANCE } from '../fixtures/fake-slipway.js';
import { waitFor } from '../fixtures/wait.js';

const RETENTION_SECONDS = 3600;

function housekeeping(t: { testdir(): string; teardown(fn: () => void): void }) {
  const dir = t.testdir();
  const log = pino({ level: 'silent' });
  const store = new RunStore(dir);
  t.teardown(() => store.close());
  const logs = new RunLogs(join(dir, 'logs'), 1024 * 1024);
  const runs = new RunManager(store, logs, new RunQueue(2, 2, 1), new ActiveRuns(), log);
  const prunes: PruneOptions[] = [];
  const runtime = new FakeRuntime({ builder: { repoImage: () => Promise.reject(new Error('not here')), prune: async (o) => (prunes.push(o), { removed: [], inUse: [] }) } });
  const { repoBuild } = slipwaySettings(loadConfig({ SLIPWAY_DATA_DIR: dir, SLIPWAY_GIT_WORK_DIR: join(dir, 'clones'), SLIPWAY_INSTANCE: FAKE_INSTANCE }));
  const clock = { now: Date.now() };
  const maintenance = new Maintenance({
    runtime, store, logs, runs, activeRuns: new ActiveRuns(), instance: FAKE_INSTANCE, outputCapBytes: 1024, repoBuild,
    retentionSeconds: RETENTION_SECONDS, sweepIntervalSeconds: 60, log, now: () => clock.now,
  });
  t.teardown(() => maintenance.stop());
  return { store, logs, maintenance, prunes, repoBuild, clock };
}

/** A run that ended at `endedAt`, with a log of one line. */
function endedRun(store: RunStore, logs: RunLogs, id: string, endedAt: number): void {
  store.insert({ id, kind: 'image', image: 'busybox', owner: null, idempotencyKey: null, requestHash: null, timeoutMs: 1000 });
  logs.start(id);
  logs.append(id, 'stdout', 'hi\n', 3);
  logs.finish(id);
  store.finish(id, {
    success: true, exit_code: 0, stdout: 'hi\n', stderr: '', execution_time: 0, error_message: null, run_id: id, status: 'succeeded',
    container_id: null, image: 'busybox', started_at: null, finished_at: new Date(endedAt).toISOString(), stdout_truncated: false, stderr_truncated: false,
  }, false);
}

t.test('a sweep deletes the runs that ended longer ago than the retention, with their logs, and keeps the rest', async (t) => {
  const { store, logs, maintenance, clock } = housekeeping(t);
  endedRun(store, logs, 'old', clock.now);
  t.equal(maintenance.sweep(), 0, 'nothing has passed its retention yet');
  clock.now += 30 * 60_000;
  endedRun(store, logs, 'newer', clock.now);
  store.insert({ id: 'live', kind: 'image', image: 'busybox', owner: null, idempotencyKey: null, requestHash: null, timeoutMs: 1000 });
  clock.now += 31 * 60_000;
  t.equal(maintenance.sweep(), 1, 'an hour and a minute on, the first run has passed its retention');
  t.equal(store.get('old'), undefined);
  t.notOk(existsSync(logs.path('old')), 'its log goes with it');
  t.ok(store.get('newer'), 'a run that ended half an hour ago is kept');
  t.ok(existsSync(logs.path('newer')));
  t.ok(store.get('live'), 'a run that has not ended is never expired');
});

t.test('a sweep prunes build images by the build image retention of the settings, on the same clock', async (t) => {
  const { maintenance, prunes, repoBuild, clock } = housekeeping(t);
  clock.now = Date.UTC(2030, 0, 1);
  maintenance.sweep();
  t.match(prunes, [{ instance: FAKE_INSTANCE, retentionSeconds: repoBuild.build.imageRetentionSeconds, now: Date.UTC(2030, 0, 1) }]);
});

t.test('a sweep removes clone directories once they outlive the clone and build time limits', async (t) => {
  const { maintenance, repoBuild, clock } = housekeeping(t);
  const clone = join(repoBuild.git.workDir, `${CLONE_PREFIX}left-behind`);
  mkdirSync(clone, { recursive: true });
  maintenance.sweep();
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.ok(existsSync(clone), 'a clone that may still be under way is kept');
  clock.now += (repoBuild.git.cloneTimeoutSeconds + repoBuild.build.timeoutSeconds + 61) * 1000;
  maintenance.sweep();
  await waitFor(() => !existsSync(clone), { what: 'the clone directory to be removed' });
  t.pass('removed');
});
