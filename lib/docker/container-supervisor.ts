/**
 * Watches one started container to its end: demultiplexes its output into capped
 * collectors and events, enforces the timeout and the output limit, honours
 * cancellation, and reads from the engine how it ended. Used both for a run this
 * process started and for one it picks up again after a restart (lib/reconcile.ts).
 */
import { StringDecoder } from 'node:string_decoder';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { ActiveRuns, StopReason } from '../active-runs.js';
import type { DockerClient, EngineContainer } from './docker-client.js';
import type { EngineIdentity } from './engine-flavour.js';
import { LogDemuxer, type OutputStream } from './log-demux.js';
import { OutputCollector } from '../output-collector.js';
import { ResumePoint, type EarlierOutput } from '../resume-point.js';
import type { RunUsage } from './run-usage.js';
import type { RunEvent } from '../run-events.js';
import type { RunResult, RunStatus } from '../../schemas/run-result.js';

export interface SupervisorSettings {
  outputCapBytes: number;
  outputLimitBytes: number;
  stopGraceSeconds: number;
}

export interface Supervision {
  runId: string;
  image: string;
  container: EngineContainer;
  /** The multiplexed output: an attach stream, or a `logs` stream when following again. */
  output: NodeJS.ReadableStream;
  startedAt: Date;
  /** Time left before the run is stopped as timed out. */
  remainingMs: number;
  timeoutMs: number;
  memoryBytes: number;
  /**
   * Set when following a run an earlier process started: what that process logged of
   * its output. `output` is then the engine's timestamped log, which may have lost its
   * start (lib/resume-point.ts decides what of it is new).
   */
  earlier?: EarlierOutput | undefined;
  signal?: AbortSignal | undefined;
  emit: (event: RunEvent) => void;
  /** Where the run's CPU time and peak memory come from (./run-usage.ts). */
  usage: RunUsage;
}

/** How long to wait for the output stream to drain after the process exited. */
const DRAIN_TIMEOUT_MS = 5000;

export async function superviseContainer(
  s: Supervision,
  deps: { docker: DockerClient; engine: EngineIdentity; active: ActiveRuns; settings: SupervisorSettings; log: Logger },
): Promise<RunResult> {
  const { docker, engine, active, settings, log } = deps;
  const collected = { stdout: new OutputCollector(settings.outputCapBytes), stderr: new OutputCollector(settings.outputCapBytes) };
  const skip = { ...(s.earlier?.emitted ?? { stdout: 0, stderr: 0 }) };
  // Per stream, so a multi-byte character split across two frames is not mangled.
  const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  let stopReason: StopReason | undefined;
  let stopping: Promise<void> | undefined;

  const stop = (reason: StopReason, graceSeconds = settings.stopGraceSeconds): Promise<void> => {
    if (!stopping) {
      stopReason = reason;
      log.info({ runId: s.runId, container: s.container.id, reason }, 'stopping run');
      stopping = docker.stop(s.container, graceSeconds).then(
        () => undefined,
        (err) => log.warn({ runId: s.runId, err: String(err) }, 'stop failed'),
      );
    }
    return stopping;
  };

  // Output lost while no gateway was watching: the kept output is then not the whole of it.
  let lostOutput = false;
  const resume = s.earlier
    ? new ResumePoint(
        s.earlier,
        () => {
          // The engine lost the start: the earlier process's log holds the true head.
          const head = s.earlier!.head;
          collected.stdout.add(Buffer.from(head.stdout));
          collected.stderr.add(Buffer.from(head.stderr));
          skip.stdout = 0;
          skip.stderr = 0;
        },
        (gap) => {
          lostOutput = true;
          s.emit({ type: 'gap', gap });
        },
      )
    : undefined;

  const onFrame = (stream: OutputStream, frame: Buffer): void => {
    let payload = frame;
    if (resume) {
      const verdict = resume.frame(frame);
      if (!verdict.keep) return;
      payload = verdict.data;
    }
    collected[stream].add(payload);
    if (collected.stdout.total + collected.stderr.total > settings.outputLimitBytes) {
      void stop('output_limit', 0);
      return;
    }
    let data = payload;
    if (skip[stream] > 0) {
      const skipped = Math.min(skip[stream], data.length);
      skip[stream] -= skipped;
      data = data.subarray(skipped);
      if (data.length === 0) return;
    }
    const text = decoders[stream].write(data);
    s.emit({ type: 'output', stream, data: text, bytes: data.length });
  };

  const drained = pipeline(s.output, new LogDemuxer(onFrame)).catch((err) =>
    log.debug({ runId: s.runId, err: String(err) }, 'output stream ended with an error'),
  );
  const { usage } = s;
  active.add({ runId: s.runId, containerId: s.container.id, stop });
  const onAbort = (): void => void stop('cancelled');
  s.signal?.addEventListener('abort', onAbort, { once: true });
  if (s.signal?.aborted) onAbort();
  const timer = setTimeout(() => void stop('timed_out'), Math.max(0, s.remainingMs));
  try {
    const { StatusCode } = await docker.wait(s.container);
    clearTimeout(timer);
    const used = usage.final();
    await Promise.race([drained, new Promise((r) => setTimeout(r, DRAIN_TIMEOUT_MS).unref())]);
    await stopping;
    const killedUnasked = stopReason === undefined && StatusCode === SIGKILL_EXIT;
    // Podman never says OOM: asking it would only wait. Its 137 is reported as what it may be.
    const facts = killedUnasked ? await engine.facts().catch(() => undefined) : undefined;
    const oomUnknowable = facts !== undefined && !facts.reportsOom;
    const state = await finalState(docker, s.container.id, s.startedAt, killedUnasked && !oomUnknowable);
    const finishedAt = state.FinishedAt && !state.FinishedAt.startsWith('0001') ? new Date(state.FinishedAt) : new Date();
    const status = finalStatus(stopReason, state.OOMKilled, StatusCode);
    const unknowable = oomUnknowable && status === 'failed' ? facts.name : undefined;
    return {
      success: status === 'succeeded',
      exit_code: StatusCode,
      stdout: collected.stdout.text(),
      stderr: collected.stderr.text(),
      execution_time: Math.max(0, Math.round(finishedAt.getTime() - s.startedAt.getTime())) / 1000,
      error_message: errorMessage(status, stopReason, StatusCode, s, settings.outputLimitBytes, unknowable),
      run_id: s.runId,
      status,
      container_id: s.container.id,
      image: s.image,
      started_at: s.startedAt.toISOString(),
      finished_at: finishedAt.toISOString(),
      stdout_truncated: collected.stdout.truncated || lostOutput,
      stderr_truncated: collected.stderr.truncated || lostOutput,
      ...(await used),
    };
  } finally {
    usage.stop();
    clearTimeout(timer);
    s.signal?.removeEventListener('abort', onAbort);
    active.delete(s.runId);
    (s.output as unknown as { destroy?(): void }).destroy?.();
  }
}

const SIGKILL_EXIT = 137;
const OOM_SETTLE_TRIES = 10;
const OOM_SETTLE_MS = 100;

/**
 * The container's final state. A SIGKILL nobody here sent is most likely the kernel's
 * OOM killer, but the engine handles the OOM and the exit separately, in either order,
 * and OOMKilled can come late or be lost to the exit. So for that case the engine's
 * own `oom` event for the container is looked up too, for a short while.
 */
async function finalState(docker: DockerClient, id: string, startedAt: Date, maybeOom: boolean): Promise<Docker.ContainerInspectInfo['State']> {
  let state = (await docker.inspect(id)).State;
  for (let i = 0; maybeOom && !state.OOMKilled && i < OOM_SETTLE_TRIES; i++) {
    if (await docker.sawEvent(id, 'oom', startedAt)) return { ...state, OOMKilled: true };
    await new Promise((r) => setTimeout(r, OOM_SETTLE_MS));
    state = (await docker.inspect(id)).State;
  }
  return state;
}

export function finalStatus(stopReason: StopReason | undefined, oomKilled: boolean, exitCode: number): RunStatus {
  if (stopReason === 'timed_out') return 'timed_out';
  if (stopReason === 'cancelled') return 'cancelled';
  if (stopReason === 'output_limit') return 'failed';
  if (oomKilled) return 'oom_killed';
  return exitCode === 0 ? 'succeeded' : 'failed';
}

/**
 * The caller's sentence for how the run ended. `oomBlindEngine` names an engine that
 * cannot tell an OOM kill from another SIGKILL (Podman 4.3): its 137 is `failed`, saying
 * that memory may have been the cause, rather than a guess at `oom_killed`.
 */
export function errorMessage(
  status: RunStatus,
  stopReason: StopReason | undefined,
  exitCode: number,
  s: Pick<Supervision, 'timeoutMs' | 'memoryBytes'>,
  outputLimitBytes: number,
  oomBlindEngine?: string,
): string | null {
  if (stopReason === 'output_limit') return `run produced more than ${outputLimitBytes} bytes of output and was stopped`;
  const mib = Math.round(s.memoryBytes / 1024 / 1024);
  switch (status) {
    case 'succeeded':
      return null;
    case 'timed_out':
      return `run exceeded its timeout of ${s.timeoutMs / 1000}s and was stopped`;
    case 'cancelled':
      return 'run was cancelled';
    case 'oom_killed':
      return `run was killed for exceeding its memory limit of ${mib} MiB`;
    default:
      if (oomBlindEngine && exitCode === SIGKILL_EXIT) {
        return `process was killed (exit code 137); ${oomBlindEngine} does not report out-of-memory kills, so exceeding the memory limit of ${mib} MiB may have been the cause`;
      }
      return `process exited with code ${exitCode}`;
  }
}
