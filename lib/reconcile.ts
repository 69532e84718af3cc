/**
 * After a restart (even after kill -9), brings the run records and the engine back in
 * agreement, using the engine's labels as the truth about containers:
 * - a run whose container still exists is followed to its end (an exited one ends at
 *   once), with its exit code, output and final status recorded;
 * - a run whose container vanished ends `error`, saying so;
 * - a container or volume of this instance that no unfinished run owns is removed.
 */
import type { Logger } from 'pino';
import type { DockerClient } from './docker-client.js';
import type { Executor } from './executor.js';
import { LABEL_RUN_ID, ownedFilter } from './labels.js';
import type { RunLogs } from './run-log.js';
import type { RunManager } from './runs.js';
import type { RunStore } from './run-store.js';
import { SlipwayError } from './errors.js';
import { earlierOutput } from './resume-point.js';

export interface ReconcileDeps {
  docker: DockerClient;
  store: RunStore;
  logs: RunLogs;
  runs: RunManager;
  executor: Executor;
  instance: string;
  /** Per-stream output kept in a result: how much of the earlier process's output is its head. */
  outputCapBytes: number;
  log: Logger;
}

export interface ReconcileReport {
  followed: string[];
  vanished: string[];
  removedContainers: string[];
  removedVolumes: string[];
}

export async function reconcile(deps: ReconcileDeps): Promise<ReconcileReport> {
  const { docker, store, logs, runs, executor, instance, outputCapBytes, log } = deps;
  const report: ReconcileReport = { followed: [], vanished: [], removedContainers: [], removedVolumes: [] };
  const containers = await docker.listContainers(ownedFilter(instance));
  const byRun = new Map(containers.map((c) => [c.Labels[LABEL_RUN_ID] ?? '', c]));
  const unfinished = store.unfinished();
  const kept = new Set<string>();

  for (const record of unfinished) {
    const container = byRun.get(record.run_id);
    // A container created but never started would wait forever: the run never began.
    if (!container || container.State === 'created') {
      report.vanished.push(record.run_id);
      const started = record.status === 'running' && container === undefined;
      const reason = started ? 'the run\'s container vanished while the gateway was down' : 'the gateway stopped before the run started';
      void runs.adopt(record.run_id, () => Promise.reject(new SlipwayError('SLIPWAY_ERR_ENGINE', reason))).catch(() => undefined);
      continue;
    }
    kept.add(container.Id);
    report.followed.push(record.run_id);
    logs.start(record.run_id);
    const startedAt = record.started_at ? new Date(record.started_at) : new Date(container.Created * 1000);
    // Read once, at restart: the earlier process's output decides where following resumes.
    const earlier = earlierOutput(logs.page(record.run_id, 0, Number.MAX_SAFE_INTEGER), outputCapBytes);
    log.info({ runId: record.run_id, container: container.Id, state: container.State }, 'following a run from before the restart');
    void runs
      .adopt(record.run_id, ({ signal, emit }) =>
        executor.follow({ runId: record.run_id, containerId: container.Id, image: record.image, startedAt, timeoutMs: record.timeout_ms, earlier }, { signal, onEvent: emit }),
      )
      .catch((err) => log.warn({ runId: record.run_id, err: String(err) }, 'following a run again failed'));
  }

  for (const container of containers) {
    if (kept.has(container.Id)) continue;
    report.removedContainers.push(container.Id);
    await executor.cleanUp(docker.container(container.Id), []);
  }
  const keptVolumes = new Set(unfinished.map((r) => r.run_id));
  for (const volume of await docker.listVolumes(ownedFilter(instance))) {
    if (keptVolumes.has(volume.Labels?.[LABEL_RUN_ID] ?? '')) continue;
    report.removedVolumes.push(volume.Name);
    await docker.removeVolume(volume.Name).catch((err) => log.warn({ volume: volume.Name, err: String(err) }, 'volume removal failed'));
  }
  if (report.followed.length + report.vanished.length + report.removedContainers.length + report.removedVolumes.length > 0) {
    log.info(report, 'reconciled runs with the engine');
  }
  return report;
}
