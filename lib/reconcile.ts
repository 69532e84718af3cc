/**
 * After a restart (even after kill -9), brings the run records and the engine back in
 * agreement, using the engine's labels as the truth about containers:
 * - a run whose container still exists is followed to its end (an exited one ends at
 *   once), with its exit code, output and final status recorded;
 * - a run whose container vanished ends `error`, saying so; so does one whose program
 *   was an exec in a container with the agent (a payload run), which cannot be followed;
 * - an exec in a sandbox cannot be followed either (the engine keeps no exec's output for
 *   a later reader): it ends `error`, saying the gateway restarted during it, and its
 *   processes are killed in the sandbox, which stays usable;
 * - a container or volume of this instance that no unfinished run or live sandbox owns is removed, and
 *   so is every build step container (a build interrupted by the restart cannot resume;
 *   the step images it committed are labelled cache, pruned by retention and budget).
 */
import type { Logger } from 'pino';
import type { ActiveRuns } from './active-runs.js';
import { LABEL_AGENT, LABEL_BUILD, LABEL_RUN_ID, LABEL_SANDBOX_ID, ownedLabels } from './labels.js';
import type { RunLogs } from './run-log.js';
import type { RunManager } from './runs.js';
import type { RunStore } from './run-store.js';
import type { ContainerRuntime } from './runtime/container-runtime.js';
import { SlipwayError } from './errors.js';
import { earlierOutput } from './resume-point.js';

export interface ReconcileDeps {
  runtime: ContainerRuntime;
  store: RunStore;
  logs: RunLogs;
  runs: RunManager;
  /** Where followed runs register, so stop_container and cancel reach them. */
  active: ActiveRuns;
  instance: string;
  /** Per-stream output kept in a result: how much of the earlier process's output is its head. */
  outputCapBytes: number;
  log: Logger;
  /** Live sandboxes (lib/sandboxes/sandbox-manager.ts): their containers and storage are kept. */
  keepSandboxes?: ReadonlySet<string> | undefined;
  /** Kills the processes of an exec left running in its sandbox (lib/sandboxes/sandbox-manager.ts). */
  endInterruptedExec?: ((runId: string, containerId: string) => Promise<void>) | undefined;
}

/** Why an exec under way at a restart ended. */
export const EXEC_INTERRUPTED = 'the gateway restarted during the exec; its processes in the sandbox were killed';

export interface ReconcileReport {
  followed: string[];
  vanished: string[];
  removedContainers: string[];
  removedVolumes: string[];
}

export async function reconcile(deps: ReconcileDeps): Promise<ReconcileReport> {
  const { runtime, store, logs, runs, active, instance, outputCapBytes, log } = deps;
  const keepSandboxes = deps.keepSandboxes ?? new Set<string>();
  const report: ReconcileReport = { followed: [], vanished: [], removedContainers: [], removedVolumes: [] };
  const containers = await runtime.list(ownedLabels(instance));
  // A build step's container is never followed: a build cannot resume, so it is removed below.
  const byRun = new Map(containers.filter((c) => !c.labels[LABEL_BUILD]).map((c) => [c.labels[LABEL_RUN_ID] ?? '', c]));
  const unfinished = store.unfinished();
  const kept = new Set<string>();
  // Runs ended here whose storage goes with their container.
  const ended = new Set<string>();

  for (const record of unfinished) {
    if (record.kind === 'exec' && record.container_id) {
      const containerId = record.container_id;
      log.info({ runId: record.run_id, container: containerId }, 'ending an exec the restart interrupted');
      const end = async (): Promise<never> => {
        await deps.endInterruptedExec?.(record.run_id, containerId);
        throw new SlipwayError('SLIPWAY_ERR_ENGINE', EXEC_INTERRUPTED);
      };
      void runs.adopt(record.run_id, end).catch(() => undefined);
      continue;
    }
    const container = byRun.get(record.run_id);
    // Its program was an exec, and an exec's stream dies with the process that held it:
    // nothing can follow it, so the run ends and its container is removed below.
    if (container?.labels[LABEL_AGENT]) {
      report.vanished.push(record.run_id);
      ended.add(record.run_id);
      const reason = 'the gateway restarted while the run was under way; its program ran as an exec in the run\'s container, which cannot be followed after a restart, so it was stopped';
      void runs.adopt(record.run_id, () => Promise.reject(new SlipwayError('SLIPWAY_ERR_ENGINE', reason))).catch(() => undefined);
      continue;
    }
    // A container created but never started would wait forever: the run never began.
    if (!container || container.state === 'created') {
      report.vanished.push(record.run_id);
      const started = record.status === 'running' && container === undefined;
      const reason = started ? 'the run\'s container vanished while the gateway was down' : 'the gateway stopped before the run started';
      void runs.adopt(record.run_id, () => Promise.reject(new SlipwayError('SLIPWAY_ERR_ENGINE', reason))).catch(() => undefined);
      continue;
    }
    kept.add(container.id);
    report.followed.push(record.run_id);
    logs.start(record.run_id);
    const startedAt = record.started_at ? new Date(record.started_at) : container.createdAt;
    // Read once, at restart: the earlier process's output decides where following resumes.
    const earlier = earlierOutput(logs.page(record.run_id, 0, Number.MAX_SAFE_INTEGER), outputCapBytes);
    log.info({ runId: record.run_id, container: container.id, state: container.state }, 'following a run from before the restart');
    void runs
      .adopt(record.run_id, ({ signal, emit }) =>
        runtime.follow({ runId: record.run_id, containerId: container.id, image: record.image, startedAt, timeoutMs: record.timeout_ms, earlier }, { signal, onEvent: emit, active }),
      )
      .catch((err) => log.warn({ runId: record.run_id, err: String(err) }, 'following a run again failed'));
  }

  for (const container of containers) {
    if (kept.has(container.id) || keepSandboxes.has(container.labels[LABEL_SANDBOX_ID] ?? '')) continue;
    report.removedContainers.push(container.id);
    // Best effort, as after any run: a failed removal is logged and does not stop the rest.
    await runtime.remove(container.id).catch((err) => log.warn({ container: container.id, err: String(err) }, 'container removal failed'));
  }
  const keepStorage = unfinished.map((r) => r.run_id).filter((id) => !ended.has(id));
  report.removedVolumes = await runtime.pruneRunStorage(ownedLabels(instance), new Set([...keepStorage, ...keepSandboxes]));
  // After the containers above: an agent volume only they used goes now, one a kept sandbox uses stays.
  report.removedVolumes.push(...((await runtime.pruneSharedStorage?.(ownedLabels(instance))) ?? []));
  if (report.followed.length + report.vanished.length + report.removedContainers.length + report.removedVolumes.length > 0) {
    log.info(report, 'reconciled runs with the engine');
  }
  return report;
}
