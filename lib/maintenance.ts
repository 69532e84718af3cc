/**
 * The gateway's housekeeping, on one timer: reconciling runs with the engine (at start,
 * and again on every sweep while the engine was away), deleting runs past retention
 * with their logs, pruning old build images, removing agent volumes no container uses
 * any more and removing clone directories an earlier process left. Each step is best effort: a failure is logged and the next sweep retries.
 */
import type { Logger } from 'pino';
import type { ActiveRuns } from './active-runs.js';
import { sweepStaleClones } from './git-clone.js';
import { ownedLabels } from './labels.js';
import { reconcile } from './reconcile.js';
import type { RepoBuildSettings } from './repo-build.js';
import type { RunLogs } from './run-log.js';
import type { RunStore } from './run-store.js';
import type { RunManager } from './runs.js';
import type { ContainerRuntime } from './runtime/container-runtime.js';

export interface MaintenanceDeps {
  runtime: ContainerRuntime;
  store: RunStore;
  logs: RunLogs;
  runs: RunManager;
  activeRuns: ActiveRuns;
  instance: string;
  outputCapBytes: number;
  repoBuild: RepoBuildSettings;
  /** Finished runs are kept this long. */
  retentionSeconds: number;
  sweepIntervalSeconds: number;
  log: Logger;
  /** The clock, in epoch milliseconds (tests move it). */
  now?: () => number;
  /**
   * Reconciles sandboxes first and answers the ids of the live ones, whose containers
   * run reconciliation must keep (lib/sandboxes/).
   */
  reconcileSandboxes?: () => Promise<ReadonlySet<string>>;
  /** Kills the processes of an exec a restart interrupted, in its sandbox. */
  endInterruptedExec?: (runId: string, containerId: string) => Promise<void>;
}

/** Seconds a clone directory may live beyond the clone and build time limits before a sweep removes it. */
const CLONE_GRACE_SECONDS = 60;

export class Maintenance {
  private timer: NodeJS.Timeout | undefined;
  private reconcilePending = false;
  private readonly now: () => number;

  constructor(private readonly deps: MaintenanceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * Sweeps once, starts the timer, and reconciles run records with the engine (after a
   * restart). An unreachable engine is logged, not fatal: readiness reports it.
   */
  async start(): Promise<void> {
    this.sweep();
    this.timer = setInterval(() => this.sweep(), this.deps.sweepIntervalSeconds * 1000).unref();
    await this.reconcile();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Brings records and engine into agreement; retried by the sweep while the engine is away. */
  async reconcile(): Promise<void> {
    const { runtime, store, logs, runs, activeRuns, instance, outputCapBytes, log } = this.deps;
    try {
      const keepSandboxes = await this.deps.reconcileSandboxes?.();
      await reconcile({ runtime, store, logs, runs, active: activeRuns, instance, outputCapBytes, log, keepSandboxes, endInterruptedExec: this.deps.endInterruptedExec });
      this.reconcilePending = false;
    } catch (err) {
      this.reconcilePending = true;
      log.error({ err: String(err) }, 'could not reconcile runs with the engine; will retry');
    }
  }

  /** One round of housekeeping; answers how many runs passed their retention and were deleted. */
  sweep(): number {
    const { runtime, store, logs, instance, repoBuild, log } = this.deps;
    if (this.reconcilePending) void this.reconcile();
    const expired = store.expire(new Date(this.now() - this.deps.retentionSeconds * 1000));
    for (const runId of expired) logs.remove(runId);
    void runtime.builder?.prune({ instance, retentionSeconds: repoBuild.build.imageRetentionSeconds, log, now: this.now() }).catch((err) =>
      log.warn({ err: String(err) }, 'pruning build images failed'),
    );
    void runtime.pruneSharedStorage?.(ownedLabels(instance)).catch((err) => log.warn({ err: String(err) }, 'pruning shared storage failed'));
    const cloneLifetime = repoBuild.git.cloneTimeoutSeconds + repoBuild.build.timeoutSeconds + CLONE_GRACE_SECONDS;
    void sweepStaleClones(repoBuild.git.workDir, cloneLifetime, this.now()).then(
      (removed) => removed.length > 0 && log.info({ removed }, 'removed clone directories left by an earlier process'),
      (err) => log.warn({ err: String(err) }, 'sweeping clone directories failed'),
    );
    return expired.length;
  }
}
