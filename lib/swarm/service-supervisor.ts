/**
 * Watches one run's service to its end, through the manager alone: its task's state (the
 * scheduler's reason, the exit code, the times), its output from the service log stream
 * (stdout and stderr framed apart, as a container's), the timeout, the output limit and
 * cancellation. Stopping a run means removing its service, after its log was read: the
 * manager forgets a removed service's log. Used for a run this process created and for
 * one it picks up after a restart (`earlier` set).
 */
import { StringDecoder } from 'node:string_decoder';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { ActiveRuns, StopReason } from '../active-runs.js';
import { finalStatus, type SupervisorSettings } from '../docker/container-supervisor.js';
import { LogDemuxer, type OutputStream } from '../docker/log-demux.js';
import { SlipwayError } from '../errors.js';
import { OutputCollector } from '../output-collector.js';
import type { EarlierOutput } from '../resume-point.js';
import type { RunEvent } from '../run-events.js';
import type { RunResult, RunStatus } from '../../schemas/run-result.js';
import type { SwarmClient, SwarmTask } from './swarm-client.js';

export interface ServiceWatch {
  runId: string;
  image: string;
  serviceId: string;
  /** When the run was handed to the Swarm: its start until the task reports its own. */
  createdAt: Date;
  remainingMs: number;
  timeoutMs: number;
  memoryBytes: number;
  /** What an earlier gateway process already emitted of this run's output. */
  earlier?: EarlierOutput | undefined;
  signal?: AbortSignal | undefined;
  emit: (event: RunEvent) => void;
}

export interface SwarmSupervisorDeps {
  client: SwarmClient;
  active: ActiveRuns;
  settings: SupervisorSettings;
  log: Logger;
}

/** Task states after which the task never runs again. */
export const TERMINAL = new Set(['complete', 'failed', 'rejected', 'shutdown', 'orphaned', 'remove']);
/** A task the scheduler cannot place stays `pending` with its reason in `Err`: after this long, the run ends `error`. */
const PENDING_GRACE_MS = 2000;
/** Polling the manager: quick while a short run is likely to end, then gentler. */
const FAST_POLL_MS = 25;
const FAST_POLL_FOR_MS = 3000;
const SLOW_POLL_MS = 200;
const SIGKILL_EXIT = 137;
/**
 * A task's CPU and memory are known only to the engine of the node that ran it; the
 * manager's API (services, tasks) carries none, and the task's container is gone when
 * its service is removed. So a Swarm run says plainly that its usage is unknown.
 */
export const SWARM_USAGE_UNAVAILABLE = "the Swarm manager does not report a task's CPU and memory (only the node that ran it has them)";

type Outcome = { kind: 'ended'; task: SwarmTask } | { kind: 'stopped' } | { kind: 'unschedulable'; reason: string } | { kind: 'vanished' };

/** The newest task of the service (a job has one; a rescheduled one, more). */
export function latestTask(tasks: SwarmTask[]): SwarmTask | undefined {
  return [...tasks].sort((a, b) => (a.CreatedAt ?? '').localeCompare(b.CreatedAt ?? '')).at(-1);
}

/** Output as it arrives: each stream's bytes past what was already emitted (by this or an earlier process) become events. */
class OutputTap {
  readonly collected: Record<OutputStream, OutputCollector>;
  private readonly seen = { stdout: 0, stderr: 0 };
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };

  constructor(
    capBytes: number,
    private readonly emitted: Record<OutputStream, number>,
    private readonly emit: (event: RunEvent) => void,
  ) {
    this.collected = { stdout: new OutputCollector(capBytes), stderr: new OutputCollector(capBytes) };
  }

  frame(stream: OutputStream, payload: Buffer): void {
    this.collected[stream].add(payload);
    const start = this.seen[stream];
    this.seen[stream] += payload.length;
    const fresh = payload.subarray(Math.max(0, this.emitted[stream] - start));
    if (fresh.length === 0) return;
    this.emitted[stream] += fresh.length;
    this.emit({ type: 'output', stream, data: this.decoders[stream].write(fresh), bytes: fresh.length });
  }

  get total(): number {
    return this.collected.stdout.total + this.collected.stderr.total;
  }
}

export async function superviseService(w: ServiceWatch, deps: SwarmSupervisorDeps): Promise<RunResult> {
  const { client, active, settings, log } = deps;
  // Shared by the live tap and the final read, so no byte is emitted twice.
  const emitted = { ...(w.earlier?.emitted ?? { stdout: 0, stderr: 0 }) };
  let stopReason: StopReason | undefined;
  let stopping: Promise<void> | undefined;
  let wake: () => void = () => {};

  // The live log, for events while the run goes; the result is read once it ended.
  const live = new OutputTap(settings.outputCapBytes, emitted, w.emit);
  let liveOpen = true;
  const liveStream = await client.serviceLogs(w.serviceId, { follow: true });
  const liveDone = pipeline(
    liveStream,
    new LogDemuxer((stream, payload) => {
      if (!liveOpen) return;
      live.frame(stream, payload);
      if (live.total > settings.outputLimitBytes) void stop('output_limit');
    }),
  ).catch((err) => log.debug({ runId: w.runId, err: String(err) }, 'live service log ended with an error'));
  const closeLive = (): void => {
    liveOpen = false;
    (liveStream as unknown as { destroy(): void }).destroy();
  };

  /** The whole log the nodes kept, read through the manager (before the service is removed). */
  const readFinal = async (): Promise<OutputTap | undefined> => {
    closeLive();
    await liveDone;
    const final = new OutputTap(settings.outputCapBytes, emitted, w.emit);
    try {
      await pipeline(await client.serviceLogs(w.serviceId, { follow: false }), new LogDemuxer((stream, payload) => final.frame(stream, payload)));
      return final;
    } catch (err) {
      log.warn({ runId: w.runId, err: String(err) }, 'reading the service log failed; keeping what was streamed');
      return undefined;
    }
  };

  let finalOutput: OutputTap | undefined;
  const stop = (reason: StopReason): Promise<void> => {
    if (!stopping) {
      stopReason = reason;
      log.info({ runId: w.runId, service: w.serviceId, reason }, 'stopping run');
      stopping = (async () => {
        finalOutput = await readFinal();
        await client.removeService(w.serviceId).catch((err) => log.warn({ runId: w.runId, err: String(err) }, 'service removal failed'));
      })();
      wake();
    }
    return stopping;
  };

  active.add({ runId: w.runId, containerId: w.serviceId, stop: (reason) => stop(reason) });
  const onAbort = (): void => void stop('cancelled');
  w.signal?.addEventListener('abort', onAbort, { once: true });
  if (w.signal?.aborted) onAbort();
  const timer = setTimeout(() => void stop('timed_out'), Math.max(0, w.remainingMs));
  let startedAt = w.createdAt;
  try {
    const outcome = await waitForEnd(w, client, () => stopReason !== undefined, (fn) => (wake = fn), (t) => (startedAt = t), log);
    clearTimeout(timer);
    if (outcome.kind === 'stopped') await stopping;
    else finalOutput = await readFinal();
    if (outcome.kind === 'unschedulable') {
      throw new SlipwayError('SLIPWAY_ERR_ENGINE', `the Swarm could not run the task: ${outcome.reason}`);
    }
    const output = finalOutput ?? live;
    const task = outcome.kind === 'ended' ? outcome.task : undefined;
    const exitCode = task?.Status.ContainerStatus?.ExitCode ?? (task?.Status.State === 'complete' ? 0 : null);
    const finishedAt = task?.Status.Timestamp ? new Date(task.Status.Timestamp) : new Date();
    const status: RunStatus = outcome.kind === 'vanished' && !stopReason ? 'failed' : finalStatus(stopReason, false, exitCode ?? -1);
    return {
      success: status === 'succeeded',
      exit_code: stopReason ? null : exitCode,
      stdout: output.collected.stdout.text(),
      stderr: output.collected.stderr.text(),
      execution_time: Math.max(0, Math.round(finishedAt.getTime() - startedAt.getTime())) / 1000,
      error_message: errorMessage(status, stopReason, exitCode, w, settings.outputLimitBytes, outcome.kind === 'vanished'),
      run_id: w.runId,
      status,
      container_id: w.serviceId,
      image: w.image,
      started_at: startedAt.toISOString(),
      finished_at: finishedAt.toISOString(),
      stdout_truncated: output.collected.stdout.truncated,
      stderr_truncated: output.collected.stderr.truncated,
      resource_usage: null,
      resource_usage_unavailable: SWARM_USAGE_UNAVAILABLE,
    };
  } finally {
    clearTimeout(timer);
    closeLive();
    w.signal?.removeEventListener('abort', onAbort);
    active.delete(w.runId);
  }
}

/**
 * Polls the service's task until it ends, the run is stopped, the scheduler says it
 * cannot place it, or the service is gone (removed by someone else). A failed or rejected
 * task that never got a container (no such image on the node, no such executable) is the
 * scheduler's refusal too: the run ends `error` with the node's reason.
 */
async function waitForEnd(
  w: ServiceWatch,
  client: SwarmClient,
  stopped: () => boolean,
  onWake: (wake: () => void) => void,
  onStart: (at: Date) => void,
  log: Logger,
): Promise<Outcome> {
  const began = Date.now();
  let pendingSince: number | undefined;
  let sawRunning = false;
  for (;;) {
    if (stopped()) return { kind: 'stopped' };
    const tasks = await client.tasksOf([w.serviceId]).catch((err: unknown) => {
      log.warn({ runId: w.runId, err: String(err) }, 'reading the task failed; retrying');
      return undefined;
    });
    const task = tasks && latestTask(tasks);
    if (task && !sawRunning && (task.Status.State === 'running' || TERMINAL.has(task.Status.State)) && task.Status.ContainerStatus?.ContainerID) {
      sawRunning = true;
      // A task first seen ended: its last change is its end, not its start; the creation time stays.
      if (task.Status.State === 'running' && task.Status.Timestamp) onStart(new Date(task.Status.Timestamp));
    }
    if (task && TERMINAL.has(task.Status.State)) {
      const started = Boolean(task.Status.ContainerStatus?.ContainerID) && !/^starting container failed/.test(task.Status.Err ?? '');
      if (started || task.Status.State === 'complete') return { kind: 'ended', task };
      return { kind: 'unschedulable', reason: task.Status.Err || task.Status.Message || task.Status.State };
    }
    if (task?.Status.State === 'pending' && task.Status.Err) {
      pendingSince ??= Date.now();
      if (Date.now() - pendingSince > PENDING_GRACE_MS) return { kind: 'unschedulable', reason: task.Status.Err };
    }
    if (tasks?.length === 0 && Date.now() - began > PENDING_GRACE_MS) {
      const gone = await client.inspectService(w.serviceId).then(
        () => false,
        (err: unknown) => err instanceof SlipwayError && err.code === 'SLIPWAY_ERR_CONTAINER_NOT_FOUND',
      );
      if (gone) return { kind: 'vanished' };
    }
    const pause = Date.now() - began < FAST_POLL_FOR_MS ? FAST_POLL_MS : SLOW_POLL_MS;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, pause);
      onWake(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

function errorMessage(status: RunStatus, stopReason: StopReason | undefined, exitCode: number | null, w: ServiceWatch, outputLimitBytes: number, vanished: boolean): string | null {
  if (stopReason === 'output_limit') return `run produced more than ${outputLimitBytes} bytes of output and was stopped`;
  if (vanished && !stopReason) return "the run's service was removed outside this run";
  switch (status) {
    case 'succeeded':
      return null;
    case 'timed_out':
      return `run exceeded its timeout of ${w.timeoutMs / 1000}s and was stopped`;
    case 'cancelled':
      return 'run was cancelled';
    default:
      // The manager reports an OOM kill only as `non-zero exit (137)`: said as likely, not as certain.
      if (exitCode === SIGKILL_EXIT) {
        return `process was killed (exit code 137), most likely for exceeding its memory limit of ${Math.round(w.memoryBytes / 1024 / 1024)} MiB (the Swarm manager does not report OOM kills)`;
      }
      return `process exited with code ${exitCode}`;
  }
}
