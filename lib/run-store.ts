/**
 * Run records in an embedded SQLite database under the data directory. Writes are
 * synchronous and in WAL mode, so a record survives the gateway being killed at any
 * moment; the engine is the other half of the truth (lib/reconcile.ts).
 */
import type Database from 'better-sqlite3';
import { openDatabase } from './database.js';
import type { RunKind } from './labels.js';
import type { RepoBuildInfo } from './repo-build.js';
import type { RepoBuildResult } from '../schemas/repo-run.js';
import type { RunRecord } from '../schemas/runs.js';
import type { ReturnedFiles, RunResult, RunStatus } from '../schemas/run-result.js';

export const FINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'timed_out', 'oom_killed', 'cancelled', 'error'];
export const isFinal = (status: RunStatus): boolean => FINAL_STATUSES.includes(status);

export interface NewRun {
  id: string;
  kind: RunKind;
  image: string;
  owner: string | null;
  idempotencyKey: string | null;
  requestHash: string | null;
  timeoutMs: number;
}

/**
 * A stored row: the record plus what only the gateway needs. A repo run's build is a
 * field group of its own (`build`), which lib/run-record.ts maps to the public fields.
 */
export interface StoredRun extends Omit<RunRecord, keyof RepoBuildResult> {
  /** A repo run's build, once it has one; null for other kinds. */
  build: RepoBuildInfo | null;
  owner: string | null;
  timeout_ms: number;
  request_hash: string | null;
  /** The catalogue code of an `error` run's failure, so a replay answers it again (same status). */
  error_code: string | null;
}

export interface RunQuery {
  status?: RunStatus | undefined;
  kind?: RunKind | undefined;
  since?: string | undefined;
  until?: string | undefined;
  owner?: string | undefined;
  limit: number;
  /** Keyset pagination: rows created before this (created_at, id). */
  before?: { created_at: string; id: string } | undefined;
}

/** A repo run's build, one column a field (lib/repo-build.ts RepoBuildInfo); NULL for other kinds. */
const BUILD_COLUMNS = [
  ['build_image_tag', 'TEXT'],
  ['build_image_id', 'TEXT'],
  ['build_commit_sha', 'TEXT'],
  ['build_time', 'REAL'],
  ['build_cache_hit', 'INTEGER'],
  ['build_log', 'TEXT'],
] as const;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  image TEXT NOT NULL,
  owner TEXT,
  idempotency_key TEXT,
  request_hash TEXT,
  container_id TEXT,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  exit_code INTEGER,
  execution_time REAL NOT NULL DEFAULT 0,
  error_message TEXT,
  stdout TEXT NOT NULL DEFAULT '',
  stderr TEXT NOT NULL DEFAULT '',
  stdout_truncated INTEGER NOT NULL DEFAULT 0,
  stderr_truncated INTEGER NOT NULL DEFAULT 0,
  log_truncated INTEGER NOT NULL DEFAULT 0,
  timeout_ms INTEGER NOT NULL,
  error_code TEXT,
  cpu_seconds REAL,
  memory_peak_bytes INTEGER,
  resource_usage_unavailable TEXT,
  returned_files TEXT,
  ${BUILD_COLUMNS.map(([name, type]) => `${name} ${type}`).join(',\n  ')}
);
CREATE UNIQUE INDEX IF NOT EXISTS runs_idempotency ON runs (ifnull(owner, ''), idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS runs_created ON runs (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS runs_status ON runs (status);
`;

/** Columns added after the first release, in order: CREATE TABLE has them, older files get them by ALTER. */
const ADDED_COLUMNS: [string, string][] = [
  ['error_code', 'TEXT'],
  ['cpu_seconds', 'REAL'],
  ['memory_peak_bytes', 'INTEGER'],
  ['resource_usage_unavailable', 'TEXT'],
  // A payload run's return_files answer (files, files_truncated, files_refused) as JSON; NULL when none was asked.
  ['returned_files', 'TEXT'],
];

type Row = Record<string, unknown>;

function toRecord(row: Row): StoredRun {
  return {
    run_id: row.id as string,
    kind: row.kind as RunKind,
    status: row.status as RunStatus,
    image: row.image as string,
    container_id: (row.container_id as string | null) ?? null,
    created_at: row.created_at as string,
    started_at: (row.started_at as string | null) ?? null,
    finished_at: (row.finished_at as string | null) ?? null,
    exit_code: (row.exit_code as number | null) ?? null,
    execution_time: row.execution_time as number,
    error_message: (row.error_message as string | null) ?? null,
    success: row.status === 'succeeded',
    stdout: row.stdout as string,
    stderr: row.stderr as string,
    stdout_truncated: row.stdout_truncated === 1,
    stderr_truncated: row.stderr_truncated === 1,
    log_truncated: row.log_truncated === 1,
    owner: (row.owner as string | null) ?? null,
    timeout_ms: row.timeout_ms as number,
    request_hash: (row.request_hash as string | null) ?? null,
    error_code: (row.error_code as string | null) ?? null,
    resource_usage: row.cpu_seconds === null || row.cpu_seconds === undefined ? null : { cpu_seconds: row.cpu_seconds as number, memory_peak_bytes: row.memory_peak_bytes as number },
    resource_usage_unavailable: (row.resource_usage_unavailable as string | null) ?? null,
    build: buildOf(row),
    ...returnedFilesOf(row),
  };
}

/** The return_files fields of a record, absent when the run asked for none. */
function returnedFilesOf(row: Row): Partial<ReturnedFiles> {
  return typeof row.returned_files === 'string' ? (JSON.parse(row.returned_files) as ReturnedFiles) : {};
}

function returnedFilesColumn(result: RunResult & Partial<ReturnedFiles>): string | null {
  if (result.files === undefined) return null;
  return JSON.stringify({ files: result.files, files_truncated: result.files_truncated ?? false, files_refused: result.files_refused ?? [] });
}

function buildOf(row: Row): RepoBuildInfo | null {
  if (row.build_image_tag === null || row.build_image_tag === undefined) return null;
  return {
    image_tag: row.build_image_tag as string,
    image_id: (row.build_image_id as string | null) ?? null,
    commit_sha: row.build_commit_sha as string,
    build_time: row.build_time as number,
    cache_hit: row.build_cache_hit === 1,
    build_log: row.build_log as string,
  };
}

/** The build columns' values (all NULL without a build), named as finish() binds them. */
function buildColumns(build: RepoBuildInfo | null | undefined): Record<(typeof BUILD_COLUMNS)[number][0], unknown> {
  return {
    build_image_tag: build?.image_tag ?? null,
    build_image_id: build?.image_id ?? null,
    build_commit_sha: build?.commit_sha ?? null,
    build_time: build?.build_time ?? null,
    build_cache_hit: build ? (build.cache_hit ? 1 : 0) : null,
    build_log: build?.build_log ?? null,
  };
}

export class RunStore {
  private readonly db: Database.Database;
  /** Prepared once per SQL text: preparing costs more than running these small statements. */
  private readonly statements = new Map<string, Database.Statement>();

  constructor(dataDir: string) {
    this.db = openDatabase(dataDir, SCHEMA);
    this.upgrade();
  }

  /** Brings a database made by an earlier version to this schema, in place. */
  private upgrade(): void {
    const has = (column: string): boolean => (this.db.prepare('PRAGMA table_info(runs)').all() as { name: string }[]).some((c) => c.name === column);
    // Made before error_code existed: NULL, such runs replay as records.
    // Without resource usage they show none.
    for (const [name, type] of ADDED_COLUMNS) if (!has(name)) this.db.exec(`ALTER TABLE runs ADD COLUMN ${name} ${type}`);
    for (const [name, type] of BUILD_COLUMNS) if (!has(name)) this.db.exec(`ALTER TABLE runs ADD COLUMN ${name} ${type}`);
    // Made when a repo run's build was kept as JSON beside the record: moved into its columns.
    if (has('extra')) {
      this.db.transaction(() => {
        this.db.exec(`UPDATE runs SET
            build_image_tag = json_extract(extra, '$.image_tag'), build_image_id = json_extract(extra, '$.image_id'),
            build_commit_sha = json_extract(extra, '$.commit_sha'), build_time = json_extract(extra, '$.build_time'),
            build_cache_hit = json_extract(extra, '$.cache_hit'), build_log = json_extract(extra, '$.build_log')
          WHERE extra IS NOT NULL AND json_valid(extra) AND json_extract(extra, '$.image_tag') IS NOT NULL`);
        this.db.exec('ALTER TABLE runs DROP COLUMN extra');
      })();
    }
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  insert(run: NewRun): StoredRun {
    this.statement(
        `INSERT INTO runs (id, kind, status, image, owner, idempotency_key, request_hash, created_at, timeout_ms)
         VALUES (@id, @kind, 'queued', @image, @owner, @idempotencyKey, @requestHash, @createdAt, @timeoutMs)`,
      )
      .run({ ...run, createdAt: new Date().toISOString() });
    return this.get(run.id)!;
  }

  get(id: string): StoredRun | undefined {
    const row = this.statement('SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  /**
   * A run that failed before any container started: its error code is kept for replays,
   * and with `releaseKey` its idempotency key is freed, so a retry with that key runs anew.
   */
  recordError(id: string, code: string, releaseKey: boolean): void {
    this.statement(`UPDATE runs SET error_code = @code${releaseKey ? ', idempotency_key = NULL' : ''} WHERE id = @id`).run({ id, code });
  }

  byIdempotencyKey(owner: string | null, key: string): StoredRun | undefined {
    const row = this.statement("SELECT * FROM runs WHERE ifnull(owner, '') = ? AND idempotency_key = ?").get(owner ?? '', key) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  setStatus(id: string, status: RunStatus, fields: { container_id?: string; started_at?: string } = {}): void {
    this.statement('UPDATE runs SET status = @status, container_id = coalesce(@container_id, container_id), started_at = coalesce(@started_at, started_at) WHERE id = @id')
      .run({ id, status, container_id: fields.container_id ?? null, started_at: fields.started_at ?? null });
  }

  /** Records how a run ended: its result and, for a repo run, its build. */
  finish(id: string, result: RunResult, logTruncated: boolean, build?: RepoBuildInfo): void {
    this.statement(
        `UPDATE runs SET status = @status, image = @image, container_id = coalesce(@container_id, container_id), started_at = coalesce(@started_at, started_at),
           finished_at = @finished_at, exit_code = @exit_code, execution_time = @execution_time, error_message = @error_message,
           stdout = @stdout, stderr = @stderr, stdout_truncated = @stdout_truncated, stderr_truncated = @stderr_truncated,
           log_truncated = @log_truncated, cpu_seconds = @cpu_seconds, memory_peak_bytes = @memory_peak_bytes, resource_usage_unavailable = @resource_usage_unavailable, returned_files = @returned_files, ${BUILD_COLUMNS.map(([name]) => `${name} = @${name}`).join(', ')}
         WHERE id = @id`,
      )
      .run({
        id,
        status: result.status,
        image: result.image,
        container_id: result.container_id,
        started_at: result.started_at,
        finished_at: result.finished_at ?? new Date().toISOString(),
        exit_code: result.exit_code,
        execution_time: result.execution_time,
        error_message: result.error_message,
        stdout: result.stdout,
        stderr: result.stderr,
        stdout_truncated: result.stdout_truncated ? 1 : 0,
        stderr_truncated: result.stderr_truncated ? 1 : 0,
        log_truncated: logTruncated ? 1 : 0,
        ...buildColumns(build),
        cpu_seconds: result.resource_usage?.cpu_seconds ?? null,
        memory_peak_bytes: result.resource_usage?.memory_peak_bytes ?? null,
        resource_usage_unavailable: result.resource_usage ? null : (result.resource_usage_unavailable ?? null),
        returned_files: returnedFilesColumn(result),
      });
  }

  /** Runs not yet in a final status: what a restart must reconcile. */
  unfinished(): StoredRun[] {
    const placeholders = FINAL_STATUSES.map(() => '?').join(', ');
    return (this.statement(`SELECT * FROM runs WHERE status NOT IN (${placeholders})`).all(...FINAL_STATUSES) as Row[]).map(toRecord);
  }

  list(q: RunQuery): StoredRun[] {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: q.limit };
    const filter = (condition: string, name: string, value: unknown): void => {
      where.push(condition);
      params[name] = value;
    };
    if (q.status) filter('status = @status', 'status', q.status);
    if (q.kind) filter('kind = @kind', 'kind', q.kind);
    if (q.owner !== undefined) filter('owner = @owner', 'owner', q.owner);
    if (q.since) filter('created_at >= @since', 'since', new Date(q.since).toISOString());
    if (q.until) filter('created_at < @until', 'until', new Date(q.until).toISOString());
    if (q.before) {
      where.push('(created_at < @beforeCreated OR (created_at = @beforeCreated AND id < @beforeId))');
      params.beforeCreated = q.before.created_at;
      params.beforeId = q.before.id;
    }
    const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT @limit`;
    return (this.statement(sql).all(params) as Row[]).map(toRecord);
  }

  /** Every owner with a run kept here (a dashboard's owner filter). */
  owners(): string[] {
    return (this.statement('SELECT DISTINCT owner FROM runs WHERE owner IS NOT NULL ORDER BY owner').all() as { owner: string }[]).map((r) => r.owner);
  }

  /**
   * One owner's finished runs, newest first, with the bytes their records hold (the
   * output, a repo run's build, a payload run's returned files): what the per-caller storage budget weighs.
   */
  finishedOf(owner: string | null): { id: string; bytes: number }[] {
    const placeholders = FINAL_STATUSES.map(() => '?').join(', ');
    const extraBytes = ['build_image_tag', 'build_image_id', 'build_commit_sha', 'build_log', 'returned_files'].map((c) => `ifnull(length(CAST(${c} AS BLOB)), 0)`).join(' + ');
    const sql = `SELECT id, length(CAST(stdout AS BLOB)) + length(CAST(stderr AS BLOB)) + ${extraBytes} AS bytes
      FROM runs WHERE owner IS ? AND status IN (${placeholders}) ORDER BY finished_at DESC, id DESC`;
    return this.statement(sql).all(owner, ...FINAL_STATUSES) as { id: string; bytes: number }[];
  }

  delete(ids: readonly string[]): void {
    const statement = this.statement('DELETE FROM runs WHERE id = ?');
    this.db.transaction(() => {
      for (const id of ids) statement.run(id);
    })();
  }

  /** Deletes final runs finished before `cutoff`; returns their ids so their logs go too. */
  expire(cutoff: Date): string[] {
    const placeholders = FINAL_STATUSES.map(() => '?').join(', ');
    const rows = this.statement(`DELETE FROM runs WHERE status IN (${placeholders}) AND coalesce(finished_at, created_at) < ? RETURNING id`)
      .all(...FINAL_STATUSES, cutoff.toISOString()) as { id: string }[];
    return rows.map((r) => r.id);
  }

  close(): void {
    this.db.close();
  }
}
