import t from 'tap';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { RunStore, type NewRun } from '../../lib/run-store.js';
import type { RunResult } from '../../schemas/run-result.js';

/** The little of a tap test these helpers use. */
type Scope = { testdir(): string; teardown(fn: () => void): void };

function store(t: Scope): { runs: RunStore; setCreated: (id: string, iso: string) => void } {
  const dir = t.testdir();
  const runs = new RunStore(dir);
  // A second connection sets creation times the store itself takes from the clock.
  const db = new Database(join(dir, 'runs.sqlite3'));
  t.teardown(() => {
    db.close();
    runs.close();
  });
  return { runs, setCreated: (id, iso) => void db.prepare('UPDATE runs SET created_at = ? WHERE id = ?').run(iso, id) };
}

const newRun = (id: string, extra: Partial<NewRun> = {}): NewRun => ({
  id,
  kind: 'image',
  image: 'python:3.12-slim',
  owner: null,
  idempotencyKey: null,
  requestHash: null,
  timeoutMs: 60_000,
  ...extra,
});

const result = (id: string, extra: Partial<RunResult> = {}): RunResult => ({
  success: true,
  exit_code: 0,
  stdout: 'out',
  stderr: 'err',
  execution_time: 1.25,
  error_message: null,
  run_id: id,
  status: 'succeeded',
  container_id: 'c1',
  image: 'python:3.12-slim',
  started_at: '2026-01-01T00:00:01.000Z',
  finished_at: '2026-01-01T00:00:02.250Z',
  stdout_truncated: false,
  stderr_truncated: true,
  ...extra,
});

t.test('insert records a queued run; get reads it back', async (t) => {
  const { runs } = store(t);
  const before = new Date().toISOString();
  const run = runs.insert(newRun('r1', { kind: 'payload', owner: 'alice', idempotencyKey: 'k1', requestHash: 'h1', timeoutMs: 5000 }));
  t.strictSame(run, {
    run_id: 'r1',
    kind: 'payload',
    status: 'queued',
    image: 'python:3.12-slim',
    container_id: null,
    created_at: run.created_at,
    started_at: null,
    finished_at: null,
    exit_code: null,
    execution_time: 0,
    error_message: null,
    success: false,
    stdout: '',
    stderr: '',
    stdout_truncated: false,
    stderr_truncated: false,
    log_truncated: false,
    owner: 'alice',
    timeout_ms: 5000,
    request_hash: 'h1',
    error_code: null,
    build: null,
    resource_usage: null,
    resource_usage_unavailable: null,
  });
  t.ok(run.created_at >= before && run.created_at <= new Date().toISOString(), 'created now, ISO');
  t.strictSame(runs.get('r1'), run);
  t.equal(runs.get('nope'), undefined);
  t.throws(() => runs.insert(newRun('r1')), /UNIQUE/, 'ids are unique');
});

t.test('setStatus keeps fields it is not given; finish records the result', async (t) => {
  const { runs } = store(t);
  runs.insert(newRun('r1'));
  runs.setStatus('r1', 'running', { container_id: 'c1', started_at: '2026-01-01T00:00:01.000Z' });
  runs.setStatus('r1', 'pulling');
  t.match(runs.get('r1'), { status: 'pulling', container_id: 'c1', started_at: '2026-01-01T00:00:01.000Z' });
  runs.finish('r1', result('r1'), true);
  t.match(runs.get('r1'), {
    status: 'succeeded',
    success: true,
    exit_code: 0,
    stdout: 'out',
    stderr: 'err',
    execution_time: 1.25,
    finished_at: '2026-01-01T00:00:02.250Z',
    stdout_truncated: false,
    stderr_truncated: true,
    log_truncated: true,
    error_message: null,
  });
  runs.insert(newRun('r2'));
  runs.setStatus('r2', 'running', { container_id: 'c2', started_at: '2026-01-01T00:00:00.000Z' });
  const before = new Date().toISOString();
  runs.finish('r2', result('r2', { status: 'timed_out', success: false, exit_code: null, container_id: null, started_at: null, finished_at: null, error_message: 'timeout' }), false);
  const r2 = runs.get('r2')!;
  t.match(r2, { status: 'timed_out', success: false, exit_code: null, container_id: 'c2', started_at: '2026-01-01T00:00:00.000Z', error_message: 'timeout', log_truncated: false });
  t.ok(r2.finished_at! >= before, 'finished now when the result has no time');
});

t.test('idempotency keys are per owner', async (t) => {
  const { runs } = store(t);
  runs.insert(newRun('a1', { owner: 'alice', idempotencyKey: 'k' }));
  runs.insert(newRun('b1', { owner: 'bob', idempotencyKey: 'k' }));
  runs.insert(newRun('n1', { owner: null, idempotencyKey: 'k' }));
  runs.insert(newRun('x1'));
  runs.insert(newRun('x2'));
  t.equal(runs.byIdempotencyKey('alice', 'k')?.run_id, 'a1');
  t.equal(runs.byIdempotencyKey('bob', 'k')?.run_id, 'b1');
  t.equal(runs.byIdempotencyKey(null, 'k')?.run_id, 'n1');
  t.equal(runs.byIdempotencyKey('carol', 'k'), undefined);
  t.equal(runs.byIdempotencyKey('alice', 'other'), undefined);
  t.throws(() => runs.insert(newRun('a2', { owner: 'alice', idempotencyKey: 'k' })), /UNIQUE/);
  t.throws(() => runs.insert(newRun('n2', { owner: null, idempotencyKey: 'k' })), /UNIQUE/, 'no owner counts as one owner');
});

const BUILD = { image_tag: 'slipway-build:abc', image_id: 'sha256:img', commit_sha: 'c0ffee', build_time: 2.5, cache_hit: true, build_log: 'Step 1/1\n' };

t.test('a repo run\'s build is kept as its own typed field group, and runs without one say null', async (t) => {
  const { runs } = store(t);
  runs.insert(newRun('repo', { kind: 'repo' }));
  runs.finish('repo', result('repo'), false, BUILD);
  t.strictSame(runs.get('repo')?.build, BUILD);
  runs.insert(newRun('failed-build', { kind: 'repo' }));
  runs.finish('failed-build', result('failed-build', { status: 'failed', success: false }), false, { ...BUILD, image_id: null, cache_hit: false });
  t.strictSame(runs.get('failed-build')?.build, { ...BUILD, image_id: null, cache_hit: false }, 'a failed build has no image id');
  runs.insert(newRun('plain'));
  runs.finish('plain', result('plain'), false);
  t.equal(runs.get('plain')?.build, null);
  t.notOk('commit_sha' in runs.get('repo')!, 'the build fields are not spread over the record');
});

t.test('a database that kept builds as JSON beside the record is moved to the build columns on open', async (t) => {
  const dir = t.testdir();
  const old = new Database(join(dir, 'runs.sqlite3'));
  // The schema before builds had columns of their own: a JSON `extra`, and no error_code.
  old.exec(`CREATE TABLE runs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, image TEXT NOT NULL, owner TEXT,
    idempotency_key TEXT, request_hash TEXT, container_id TEXT, created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT,
    exit_code INTEGER, execution_time REAL NOT NULL DEFAULT 0, error_message TEXT, stdout TEXT NOT NULL DEFAULT '',
    stderr TEXT NOT NULL DEFAULT '', stdout_truncated INTEGER NOT NULL DEFAULT 0, stderr_truncated INTEGER NOT NULL DEFAULT 0,
    log_truncated INTEGER NOT NULL DEFAULT 0, timeout_ms INTEGER NOT NULL, extra TEXT)`);
  const insert = old.prepare("INSERT INTO runs (id, kind, status, image, created_at, timeout_ms, extra) VALUES (?, ?, 'succeeded', 'x', '2026-01-01T00:00:00.000Z', 1000, ?)");
  insert.run('repo', 'repo', JSON.stringify(BUILD));
  insert.run('image', 'image', null);
  old.close();
  const runs = new RunStore(dir);
  t.teardown(() => runs.close());
  t.strictSame(runs.get('repo')?.build, BUILD);
  t.equal(runs.get('image')?.build, null);
  t.equal(runs.get('image')?.error_code, null, 'error_code is added too');
});

t.test('unfinished lists exactly the runs not in a final status', async (t) => {
  const { runs } = store(t);
  const statuses = ['queued', 'pulling', 'building', 'running', 'succeeded', 'failed', 'timed_out', 'oom_killed', 'cancelled', 'error'] as const;
  for (const status of statuses) {
    runs.insert(newRun(status));
    runs.setStatus(status, status);
  }
  t.strictSame(runs.unfinished().map((r) => r.run_id).sort(), ['building', 'pulling', 'queued', 'running']);
});

t.test('list filters, newest first, ties broken by id, keyset pages', async (t) => {
  const { runs, setCreated } = store(t);
  const rows: [string, string, 'image' | 'payload', string | null][] = [
    ['r1', '2026-01-01T00:00:00.000Z', 'image', 'alice'],
    ['r2', '2026-01-02T00:00:00.000Z', 'payload', 'alice'],
    ['r3', '2026-01-02T00:00:00.000Z', 'image', 'bob'],
    ['r4', '2026-01-02T00:00:00.000Z', 'payload', null],
    ['r5', '2026-01-03T00:00:00.000Z', 'image', 'alice'],
  ];
  for (const [id, created, kind, owner] of rows) {
    runs.insert(newRun(id, { kind, owner }));
    setCreated(id, created);
  }
  runs.finish('r3', result('r3', { status: 'failed', success: false, exit_code: 1 }), false);
  const ids = (q: Partial<Parameters<RunStore['list']>[0]>) => runs.list({ limit: 100, ...q }).map((r) => r.run_id);
  t.strictSame(ids({}), ['r5', 'r4', 'r3', 'r2', 'r1']);
  t.strictSame(ids({ kind: 'payload' }), ['r4', 'r2']);
  t.strictSame(ids({ status: 'failed' }), ['r3']);
  t.strictSame(ids({ status: 'queued', kind: 'image' }), ['r5', 'r1']);
  t.strictSame(ids({ owner: 'alice' }), ['r5', 'r2', 'r1']);
  t.strictSame(ids({ since: '2026-01-02T00:00:00Z' }), ['r5', 'r4', 'r3', 'r2'], 'since is inclusive');
  t.strictSame(ids({ until: '2026-01-02T00:00:00.000Z' }), ['r1'], 'until is exclusive');
  t.strictSame(ids({ since: '2026-01-02T01:00:00+02:00', until: '2026-01-02T23:00:00.000-01:00' }), ['r4', 'r3', 'r2'], 'offsets are converted');
  t.strictSame(ids({ limit: 2 }), ['r5', 'r4']);

  const pages: string[][] = [];
  let before: { created_at: string; id: string } | undefined;
  for (;;) {
    const page = runs.list({ limit: 2, before });
    if (page.length === 0) break;
    pages.push(page.map((r) => r.run_id));
    const last = page.at(-1)!;
    before = { created_at: last.created_at, id: last.run_id };
  }
  t.strictSame(pages, [['r5', 'r4'], ['r3', 'r2'], ['r1']], 'keyset pages cross equal creation times without loss or repeats');
  t.strictSame(ids({ before: { created_at: '2026-01-02T00:00:00.000Z', id: 'r3' }, owner: 'alice' }), ['r2', 'r1']);
});

t.test('expire deletes final runs finished before the cutoff and returns their ids', async (t) => {
  const { runs, setCreated } = store(t);
  const cutoff = new Date('2026-02-01T00:00:00.000Z');
  runs.insert(newRun('old-done'));
  runs.finish('old-done', result('old-done', { finished_at: '2026-01-15T00:00:00.000Z' }), false);
  runs.insert(newRun('old-cancelled'));
  runs.finish('old-cancelled', result('old-cancelled', { status: 'cancelled', success: false, finished_at: '2026-01-31T23:59:59.999Z' }), false);
  runs.insert(newRun('at-cutoff'));
  runs.finish('at-cutoff', result('at-cutoff', { finished_at: cutoff.toISOString() }), false);
  runs.insert(newRun('recent'));
  runs.finish('recent', result('recent', { finished_at: '2026-02-02T00:00:00.000Z' }), false);
  runs.insert(newRun('old-running'));
  runs.setStatus('old-running', 'running');
  setCreated('old-running', '2025-01-01T00:00:00.000Z');
  runs.insert(newRun('old-queued'));
  setCreated('old-queued', '2025-01-01T00:00:00.000Z');
  runs.insert(newRun('old-error-unfinished'));
  runs.setStatus('old-error-unfinished', 'error');
  setCreated('old-error-unfinished', '2025-06-01T00:00:00.000Z');

  t.strictSame(runs.expire(cutoff).sort(), ['old-cancelled', 'old-done', 'old-error-unfinished']);
  t.strictSame(runs.list({ limit: 100 }).map((r) => r.run_id).sort(), ['at-cutoff', 'old-queued', 'old-running', 'recent']);
  t.strictSame(runs.expire(cutoff), [], 'nothing twice');
});

t.test('records survive reopening the database', async (t) => {
  const dir = t.testdir();
  const first = new RunStore(dir);
  first.insert(newRun('r1', { owner: 'alice', idempotencyKey: 'k' }));
  first.finish('r1', result('r1'), false);
  first.close();
  const second = new RunStore(dir);
  t.teardown(() => second.close());
  t.match(second.get('r1'), { status: 'succeeded', stdout: 'out' });
  t.equal(second.byIdempotencyKey('alice', 'k')?.run_id, 'r1');
});

t.test('resource usage is kept with the result, and null for a run that had none', async (t) => {
  const { runs } = store(t);
  runs.insert(newRun('r1'));
  runs.finish('r1', result('r1', { resource_usage: { cpu_seconds: 1.5, memory_peak_bytes: 104_857_600 } }), false);
  t.strictSame(runs.get('r1')?.resource_usage, { cpu_seconds: 1.5, memory_peak_bytes: 104_857_600 });
  runs.insert(newRun('r2'));
  runs.finish('r2', result('r2', { resource_usage: null }), false);
  t.equal(runs.get('r2')?.resource_usage, null);
});

t.test('a database from before resource usage gains its columns; its runs show none', async (t) => {
  const dir = t.testdir();
  // The table as the first releases made it: no error_code, no resource usage.
  const old = new Database(join(dir, 'runs.sqlite3'));
  old.exec(`CREATE TABLE runs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, image TEXT NOT NULL, owner TEXT, idempotency_key TEXT,
    request_hash TEXT, container_id TEXT, created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT, exit_code INTEGER,
    execution_time REAL NOT NULL DEFAULT 0, error_message TEXT, stdout TEXT NOT NULL DEFAULT '', stderr TEXT NOT NULL DEFAULT '',
    stdout_truncated INTEGER NOT NULL DEFAULT 0, stderr_truncated INTEGER NOT NULL DEFAULT 0, log_truncated INTEGER NOT NULL DEFAULT 0,
    timeout_ms INTEGER NOT NULL, extra TEXT)`);
  old.prepare("INSERT INTO runs (id, kind, status, image, created_at, timeout_ms) VALUES ('old', 'image', 'succeeded', 'busybox', '2026-01-01T00:00:00.000Z', 1000)").run();
  old.close();
  const runs = new RunStore(dir);
  t.teardown(() => runs.close());
  t.match(runs.get('old'), { status: 'succeeded', resource_usage: null, error_code: null });
  runs.insert(newRun('new'));
  runs.finish('new', result('new', { resource_usage: { cpu_seconds: 0.25, memory_peak_bytes: 4096 } }), false);
  t.strictSame(runs.get('new')?.resource_usage, { cpu_seconds: 0.25, memory_peak_bytes: 4096 });
});
