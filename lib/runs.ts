/**
 * The run as a first-class, durable thing: every execution (waited for or not) is a
 * record in the RunStore with its events in RunLogs, admitted through the RunQueue,
 * visible the same way from REST, MCP and SSE, cancellable, and idempotent by key.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ActiveRuns } from './active-runs.js';
import { ERROR_CATALOGUE, SlipwayError, type ErrorCode } from './errors.js';
import type { RunKind } from './labels.js';
import type { RunLogs } from './run-log.js';
import { NO_METRICS, secondsSince, type Metrics } from './metrics.js';
import type { Lane, RunQueue } from './run-queue.js';
import { enforceStorageBudget, type StorageBudget } from './run-retention.js';
import type { RunEvent } from './run-events.js';
import { outcomeResult, toResult, type RunOutcome } from './run-record.js';
import { isFinal, type RunStore, type StoredRun } from './run-store.js';
import type { RepoRunResult } from '../schemas/repo-run.js';
import type { RunResult } from '../schemas/run-result.js';

/** What the library hands the run manager: everything needed to execute, once admitted. */
export interface RunPlan {
  kind: RunKind;
  image: string;
  timeoutMs: number;
  /** The validated request, hashed so an idempotency key cannot be reused for another request. */
  request: unknown;
  execute(ctx: { runId: string; signal: AbortSignal; emit: (event: RunEvent) => void }): Promise<RunOutcome>;
}

export interface StartOptions {
  wait: boolean;
  owner?: string | null | undefined;
  /** Runs this owner may have queued or executing at once (per-token policy). */
  maxOwnerRuns?: number | undefined;
  idempotencyKey?: string | undefined;
  /** The caller's own cancellation (an MCP request cancelled); a dropped connection is not one. */
  signal?: AbortSignal | undefined;
  onEvent?: ((event: RunEvent) => void) | undefined;
}

interface LiveRun {
  controller: AbortController;
  done: Promise<RepoRunResult>;
}

export class RunManager {
  private readonly live = new Map<string, LiveRun>();
  /** Live runs whose output has a gap (a `gap` event): their record says log_truncated. */
  private readonly gapped = new Set<string>();

  constructor(
    private readonly store: RunStore,
    private readonly logs: RunLogs,
    private readonly queue: RunQueue,
    private readonly active: ActiveRuns,
    private readonly log: Logger,
    private readonly storage: StorageBudget = { maxBytesPerCaller: Infinity, maxRecordsPerCaller: Infinity },
    private readonly metrics: Metrics = NO_METRICS,
  ) {
    metrics.observe('runs_queued', () => queue.stats.queued);
    metrics.observe('runs_executing', () => queue.stats.running);
  }

  /**
   * Starts a run. Waiting, it answers the run's result; not waiting, the record as it
   * stands (status `queued`), in the same shape, so both doors answer one schema.
   */
  async start(plan: RunPlan, options: StartOptions): Promise<RepoRunResult> {
    const owner = options.owner ?? null;
    const requestHash = createHash('sha256').update(JSON.stringify(plan.request)).digest('hex');
    if (options.idempotencyKey) {
      const existing = this.store.byIdempotencyKey(owner, options.idempotencyKey);
      if (existing) return this.replay(existing, requestHash, options);
    }
    const lane = { owner: owner ?? '', maxRunning: options.maxOwnerRuns };
    this.admitOwner(lane);
    this.queue.admit(lane);
    const runId = randomUUID();
    this.store.insert({ id: runId, kind: plan.kind, image: plan.image, owner, idempotencyKey: options.idempotencyKey ?? null, requestHash, timeoutMs: plan.timeoutMs });
    this.logs.start(runId);
    this.logs.append(runId, 'status', { status: 'queued' });
    this.metrics.runStarted(plan.kind);
    const queuedAt = performance.now();
    const controller = new AbortController();
    const cancelByCaller = (): void => controller.abort(new SlipwayError('SLIPWAY_ERR_CONFLICT', 'run was cancelled'));
    options.signal?.addEventListener('abort', cancelByCaller, { once: true });
    const emit = this.emitter(runId, options.onEvent);
    const done = this.queue
      .run(() => {
        this.metrics.runQueueWait(plan.kind, secondsSince(queuedAt));
        return plan.execute({ runId, signal: controller.signal, emit });
      }, controller.signal, lane)
      .then(
        (outcome) => this.finish(runId, outcome),
        (err: unknown) => this.fail(runId, plan.image, err, controller.signal.aborted),
      )
      .finally(() => {
        options.signal?.removeEventListener('abort', cancelByCaller);
        this.live.delete(runId);
      });
    this.live.set(runId, { controller, done });
    if (!options.wait) {
      done.catch(() => undefined); // the record carries the outcome
      return toResult(this.get(runId));
    }
    return done;
  }

  /** Follows a run started by an earlier gateway process to its end (lib/reconcile.ts). */
  adopt(runId: string, follow: (ctx: { signal: AbortSignal; emit: (event: RunEvent) => void }) => Promise<RunResult>): Promise<RepoRunResult> {
    this.logs.start(runId);
    const controller = new AbortController();
    const emit = this.emitter(runId, undefined);
    const done = this.queue
      .hold(() => follow({ signal: controller.signal, emit }), { owner: this.store.get(runId)?.owner ?? '' })
      .then(
        (result) => this.finish(runId, { result }),
        (err: unknown) => this.fail(runId, this.store.get(runId)?.image ?? '', err, false),
      )
      .finally(() => this.live.delete(runId));
    this.live.set(runId, { controller, done });
    return done;
  }

  get(runId: string, owner?: string | null): StoredRun {
    const record = this.store.get(runId);
    if (!record || (owner !== undefined && owner !== null && record.owner !== owner)) {
      throw new SlipwayError('SLIPWAY_ERR_RUN_NOT_FOUND', `no run ${runId}`, { field: 'run_id' });
    }
    return { ...record, log_truncated: record.log_truncated || this.logs.isTruncated(runId) };
  }

  /** Cancels a queued or running run; its container is stopped and removed. */
  async cancel(runId: string, owner?: string | null): Promise<StoredRun> {
    const record = this.get(runId, owner);
    const live = this.live.get(runId);
    if (isFinal(record.status) || !live) {
      throw new SlipwayError('SLIPWAY_ERR_CONFLICT', `run ${runId} has already ended (${record.status})`, { field: 'run_id' });
    }
    live.controller.abort(new SlipwayError('SLIPWAY_ERR_CONFLICT', 'run was cancelled'));
    await this.active.get(runId)?.stop('cancelled');
    await live.done.catch(() => undefined);
    return this.get(runId);
  }

  /** Waits for a run to end, wherever it was started from. */
  async completion(runId: string): Promise<StoredRun> {
    await this.live.get(runId)?.done.catch(() => undefined);
    return this.get(runId);
  }


  /** Stops accepting work and cancels what is under way. */
  async shutdown(): Promise<void> {
    for (const { controller } of this.live.values()) controller.abort(new SlipwayError('SLIPWAY_ERR_CONFLICT', 'gateway shutting down'));
    await Promise.allSettled([...this.live.values()].map((l) => l.done));
  }

  /** A token's policy bounds its runs queued and executing together. */
  private admitOwner(lane: Lane): void {
    if (!lane.owner || lane.maxRunning === undefined) return;
    const { running, queued } = this.queue.ownerStats(lane.owner);
    if (running + queued >= lane.maxRunning) {
      throw new SlipwayError('SLIPWAY_ERR_RATE_LIMITED', `${lane.owner} already has ${running + queued} runs queued or executing, its limit; retry later`, { retryAfterSeconds: this.queue.retryAfterSeconds });
    }
  }

  /** Routes a run's events to its record (status), its log, and the caller. */
  private emitter(runId: string, onEvent: StartOptions['onEvent']): (event: RunEvent) => void {
    return (event) => {
      if (event.type === 'status') {
        const fields = event.status === 'running' ? { started_at: new Date().toISOString(), ...(event.container_id ? { container_id: event.container_id } : {}) } : {};
        this.store.setStatus(runId, event.status, fields);
        this.logs.append(runId, 'status', { status: event.status, ...(event.container_id ? { container_id: event.container_id } : {}) });
      } else if (event.type === 'output') {
        this.logs.append(runId, event.stream, event.data, event.bytes);
      } else if (event.type === 'pull') {
        // Byte-level download ticks would crowd the log; status lines are what a reader wants.
        if (event.progress.current === undefined) this.logs.append(runId, 'pull', event.progress);
      } else if (event.type === 'build') {
        this.logs.append(runId, 'build', event.line);
      } else if (event.type === 'gap') {
        this.logs.append(runId, 'gap', event.gap);
        this.gapped.add(runId);
      }
      try {
        onEvent?.(event);
      } catch (err) {
        this.log.warn({ runId, err: String(err) }, 'event listener failed');
      }
    };
  }

  private finish(runId: string, outcome: RunOutcome): RepoRunResult {
    const { result, build } = outcome;
    const gapped = this.gapped.delete(runId);
    this.store.finish(runId, result, this.logs.isTruncated(runId) || gapped, build);
    this.logs.append(runId, 'end', { status: result.status, exit_code: result.exit_code, error_message: result.error_message });
    this.logs.finish(runId);
    const record = this.store.get(runId);
    const owner = record?.owner ?? null;
    const kind = record?.kind ?? 'unknown';
    // The one line that says a run is over, whichever way it ended (and on either door).
    this.log.info({ runId, kind, owner, status: result.status, exitCode: result.exit_code, durationSeconds: result.execution_time }, 'run ended');
    this.metrics.runEnded(kind, result.status, result.execution_time);
    const deleted = enforceStorageBudget(this.store, this.logs, owner, this.storage);
    if (deleted.length > 0) this.log.info({ owner, deleted: deleted.length }, 'deleted the oldest finished runs beyond the caller\'s storage budget');
    return outcomeResult(outcome);
  }

  /**
   * A run that never reached a result: cancelled before it started (a result like any
   * other, status `cancelled`), or failed before its container ran (recorded as
   * `error`, and the error rethrown so a waiting caller gets its 4xx/5xx).
   */
  private fail(runId: string, image: string, err: unknown, cancelled: boolean): RepoRunResult {
    const record = this.store.get(runId);
    const status = cancelled ? 'cancelled' : 'error';
    const message = cancelled ? 'run was cancelled before it started' : err instanceof SlipwayError ? err.message : 'internal error';
    const failure: RunResult = {
      success: false,
      exit_code: null,
      stdout: '',
      stderr: '',
      execution_time: 0,
      error_message: message,
      run_id: runId,
      status,
      container_id: record?.container_id ?? null,
      image,
      started_at: record?.started_at ?? null,
      finished_at: new Date().toISOString(),
      stdout_truncated: false,
      stderr_truncated: false,
      resource_usage: null,
      resource_usage_unavailable: record?.container_id ? 'the run ended in an error before its usage was read' : 'no container was started',
    };
    const result = this.finish(runId, { result: failure });
    if (cancelled) return result;
    if (!(err instanceof SlipwayError)) this.log.error({ runId, err }, 'run failed unexpectedly');
    // Before any container started (a pull failed, the engine was away) nothing ran: the
    // key must not pin this failure, or a retry with it could never run.
    this.store.recordError(runId, err instanceof SlipwayError ? err.code : 'SLIPWAY_ERR_INTERNAL', !record?.container_id);
    throw err;
  }

  private async replay(existing: StoredRun, requestHash: string, options: StartOptions): Promise<RepoRunResult> {
    if (existing.request_hash !== requestHash) {
      throw new SlipwayError('SLIPWAY_ERR_CONFLICT', 'this idempotency key was used for a different request', { field: 'idempotency_key' });
    }
    const record = options.wait ? await this.completion(existing.run_id) : this.get(existing.run_id);
    // A run that failed with an error answers that error again, with its status code, not a 200.
    if (options.wait && record.status === 'error' && record.error_code && record.error_code in ERROR_CATALOGUE) {
      throw new SlipwayError(record.error_code as ErrorCode, record.error_message ?? ERROR_CATALOGUE[record.error_code as ErrorCode].title);
    }
    return toResult(record);
  }
}
