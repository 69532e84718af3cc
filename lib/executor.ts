/**
 * Runs one container to its end: create (hardened, labelled), attach, copy files in,
 * start, feed stdin, collect capped output, enforce the timeout, read how it ended,
 * and always remove the container and its volume. Both doors reach this through
 * lib/slipway.ts; it never sees a request or a reply, only an AbortSignal and events.
 */
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { ActiveRuns, StopReason } from './active-runs.js';
import { buildContainerSpec } from './container-spec.js';
import type { DockerClient, EngineContainer } from './docker-client.js';
import { LogDemuxer, type OutputStream } from './log-demux.js';
import { OutputCollector } from './output-collector.js';
import type { ResolvedLimits } from './policy.js';
import type { RunEvent } from './run-events.js';
import type { RunResult, RunStatus } from '../schemas/run-result.js';

export interface ExecutorSettings {
  outputCapBytes: number;
  outputLimitBytes: number;
  stopGraceSeconds: number;
  runtime?: string | undefined;
}

export interface ContainerRun {
  runId: string;
  image: string;
  cmd?: string[] | undefined;
  entrypoint?: string[] | undefined;
  env?: Record<string, string> | undefined;
  workingDir?: string | undefined;
  user?: string | undefined;
  labels: Record<string, string>;
  limits: ResolvedLimits;
  stdin?: string | undefined;
  /** A tar put into a fresh labelled volume mounted at `dir` before the start. */
  files?: { tar: Buffer; dir: string } | undefined;
}

export interface RunOptions {
  signal?: AbortSignal | undefined;
  onEvent?: ((event: RunEvent) => void) | undefined;
}

/** How long to wait for the output stream to drain after the process exited. */
const DRAIN_TIMEOUT_MS = 5000;

export class Executor {
  /** Every run under way, so shutdown can wait for their containers to be removed. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly docker: DockerClient,
    private readonly active: ActiveRuns,
    private readonly settings: ExecutorSettings,
    private readonly log: Logger,
  ) {}

  /**
   * Runs the container. Failures before the process starts (image, create, files)
   * throw catalogue errors and leave nothing behind; once it has started, every
   * outcome is a RunResult.
   */
  run(run: ContainerRun, options: RunOptions = {}): Promise<RunResult> {
    const result = this.execute(run, options);
    const tracked = result.catch(() => undefined).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    return result;
  }

  /** Stops every run under way and waits until their containers and volumes are gone. */
  async shutdown(): Promise<void> {
    await Promise.all(this.active.all().map((run) => run.stop('cancelled')));
    await Promise.allSettled([...this.inFlight]);
  }

  private async execute(run: ContainerRun, options: RunOptions): Promise<RunResult> {
    const emit = options.onEvent ?? (() => {});
    let volumeName: string | undefined;
    let container: EngineContainer | undefined;
    try {
      if (run.files) {
        volumeName = `slipway-${run.runId}-${randomBytes(4).toString('hex')}`;
        await this.docker.createVolume(volumeName, run.labels);
      }
      container = await this.docker.createContainer(
        buildContainerSpec({
          ...run,
          openStdin: run.stdin !== undefined,
          stopGraceSeconds: this.settings.stopGraceSeconds,
          runtime: this.settings.runtime,
          volume: volumeName && run.files ? { name: volumeName, target: run.files.dir } : undefined,
        }),
      );
      if (run.files) await this.docker.putArchive(container, run.files.tar, run.files.dir);
      return await this.attachAndRun(run, container, options.signal, emit);
    } finally {
      await this.cleanUp(container, volumeName);
    }
  }

  private async attachAndRun(run: ContainerRun, container: EngineContainer, signal: AbortSignal | undefined, emit: (e: RunEvent) => void): Promise<RunResult> {
    const { outputCapBytes, outputLimitBytes } = this.settings;
    const output = { stdout: new OutputCollector(outputCapBytes), stderr: new OutputCollector(outputCapBytes) };
    let stopReason: StopReason | undefined;
    let stopping: Promise<void> | undefined;

    const stop = (reason: StopReason, graceSeconds = this.settings.stopGraceSeconds): Promise<void> => {
      if (!stopping) {
        stopReason = reason;
        this.log.info({ runId: run.runId, container: container.id, reason }, 'stopping run');
        stopping = this.docker.stop(container, graceSeconds).then(
          () => undefined,
          (err) => this.log.warn({ runId: run.runId, err: String(err) }, 'stop failed'),
        );
      }
      return stopping;
    };

    const onFrame = (stream: OutputStream, payload: Buffer): void => {
      output[stream].add(payload);
      const total = output.stdout.total + output.stderr.total;
      if (total > outputLimitBytes) {
        void stop('output_limit', 0);
        return;
      }
      emit({ type: 'output', stream, data: payload.toString('utf8') });
    };

    const stream = await this.docker.attach(container, run.stdin !== undefined);
    const drained = pipeline(stream, new LogDemuxer(onFrame)).catch((err) =>
      this.log.debug({ runId: run.runId, err: String(err) }, 'output stream ended with an error'),
    );

    this.active.add({ runId: run.runId, containerId: container.id, stop });
    const onAbort = (): void => void stop('cancelled');
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    let timer: NodeJS.Timeout | undefined;
    try {
      const startedAt = new Date();
      const started = performance.now();
      await this.docker.start(container);
      emit({ type: 'status', status: 'running', container_id: container.id });
      if (run.stdin !== undefined) stream.end(run.stdin);
      timer = setTimeout(() => void stop('timed_out'), run.limits.timeoutMs);

      const { StatusCode } = await this.docker.wait(container);
      const executionTime = (performance.now() - started) / 1000;
      clearTimeout(timer);
      await Promise.race([drained, new Promise((r) => setTimeout(r, DRAIN_TIMEOUT_MS).unref())]);
      await stopping;
      const state = (await this.docker.inspect(container.id)).State;

      const status = finalStatus(stopReason, state.OOMKilled, StatusCode);
      return {
        success: status === 'succeeded',
        exit_code: StatusCode,
        stdout: output.stdout.text(),
        stderr: output.stderr.text(),
        execution_time: Math.round(executionTime * 1000) / 1000,
        error_message: errorMessage(status, stopReason, StatusCode, run, outputLimitBytes),
        run_id: run.runId,
        status,
        container_id: container.id,
        image: run.image,
        started_at: startedAt.toISOString(),
        finished_at: new Date().toISOString(),
        stdout_truncated: output.stdout.truncated,
        stderr_truncated: output.stderr.truncated,
      };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      this.active.delete(run.runId);
      (stream as unknown as { destroy(): void }).destroy();
    }
  }

  /** Removal is best effort and never masks the run's own outcome. */
  private async cleanUp(container: EngineContainer | undefined, volumeName: string | undefined): Promise<void> {
    if (container) await this.docker.remove(container).catch((err) => this.log.warn({ container: container.id, err: String(err) }, 'container removal failed'));
    if (volumeName) await this.docker.removeVolume(volumeName).catch((err) => this.log.warn({ volume: volumeName, err: String(err) }, 'volume removal failed'));
  }
}

export function finalStatus(stopReason: StopReason | undefined, oomKilled: boolean, exitCode: number): RunStatus {
  if (stopReason === 'timed_out') return 'timed_out';
  if (stopReason === 'cancelled') return 'cancelled';
  if (stopReason === 'output_limit') return 'failed';
  if (oomKilled) return 'oom_killed';
  return exitCode === 0 ? 'succeeded' : 'failed';
}

function errorMessage(status: RunStatus, stopReason: StopReason | undefined, exitCode: number, run: ContainerRun, outputLimitBytes: number): string | null {
  if (stopReason === 'output_limit') return `run produced more than ${outputLimitBytes} bytes of output and was stopped`;
  switch (status) {
    case 'succeeded':
      return null;
    case 'timed_out':
      return `run exceeded its timeout of ${run.limits.timeoutMs / 1000}s and was stopped`;
    case 'cancelled':
      return 'run was cancelled';
    case 'oom_killed':
      return `run was killed for exceeding its memory limit of ${Math.round(run.limits.memoryBytes / 1024 / 1024)} MiB`;
    default:
      return `process exited with code ${exitCode}`;
  }
}
