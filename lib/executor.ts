/**
 * Runs one container to its end: create (hardened, labelled), attach, copy files in,
 * start, feed stdin, then hand over to the supervisor; and always remove the container
 * and its volume. It can also pick up a container a previous gateway process started
 * (`follow`). It never sees a request or a reply, only an AbortSignal and events.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ActiveRuns } from './active-runs.js';
import { buildContainerSpec, type ContainerSpecInput } from './container-spec.js';
import { superviseContainer, type SupervisorSettings } from './container-supervisor.js';
import type { DockerClient, EngineContainer } from './docker-client.js';
import type { RunEvent } from './run-events.js';
import type { EarlierOutput } from './resume-point.js';
import type { RunResult } from '../schemas/run-result.js';

export interface ExecutorSettings extends SupervisorSettings {
  runtime?: string | undefined;
}

/** One run's container: the spec's fields the run chooses, plus its id, stdin and files. */
export interface ContainerRun
  extends Pick<ContainerSpecInput, 'image' | 'cmd' | 'entrypoint' | 'env' | 'workingDir' | 'user' | 'labels' | 'limits' | 'runtime'> {
  runId: string;
  stdin?: string | undefined;
  /** A tar put into a fresh labelled volume mounted at `dir` before the start. */
  files?: { tar: Buffer; dir: string } | undefined;
}

export interface RunOptions {
  signal?: AbortSignal | undefined;
  onEvent?: ((event: RunEvent) => void) | undefined;
}

/** What `follow` needs to know of a run started by an earlier gateway process. */
export interface OrphanedRun {
  runId: string;
  containerId: string;
  image: string;
  startedAt: Date;
  timeoutMs: number;
  /** What the earlier process logged of the run's output (lib/resume-point.ts). */
  earlier: EarlierOutput;
}

export class Executor {
  private readonly supervisorDeps;

  constructor(
    private readonly docker: DockerClient,
    active: ActiveRuns,
    private readonly settings: ExecutorSettings,
    private readonly log: Logger,
  ) {
    this.supervisorDeps = { docker, active, settings, log };
  }

  /**
   * Runs the container. Failures before the process starts (create, files) throw
   * catalogue errors and leave nothing behind; once it has started, every outcome is
   * a RunResult.
   */
  async run(run: ContainerRun, options: RunOptions = {}): Promise<RunResult> {
    let volumeName: string | undefined;
    let container: EngineContainer | undefined;
    try {
      // Cancelled while its image was pulled: nothing is created, the process never starts.
      options.signal?.throwIfAborted();
      if (run.files) {
        volumeName = `slipway-${run.runId}-${randomBytes(4).toString('hex')}`;
        await this.docker.createVolume(volumeName, run.labels);
      }
      const image = await this.docker.inspectImage(run.image);
      container = await this.docker.createContainer(
        buildContainerSpec({
          ...run,
          imageVolumes: Object.keys(image?.Config?.Volumes ?? {}),
          name: `slipway-${run.runId}`,
          openStdin: run.stdin !== undefined,
          stopGraceSeconds: this.settings.stopGraceSeconds,
          runtime: run.runtime ?? this.settings.runtime,
          volume: volumeName && run.files ? { name: volumeName, target: run.files.dir } : undefined,
        }),
      );
      if (run.files) await this.docker.putArchive(container, run.files.tar, run.files.dir);
      options.signal?.throwIfAborted();
      const output = await this.docker.attach(container, run.stdin !== undefined);
      const startedAt = new Date();
      try {
        options.signal?.throwIfAborted();
        await this.docker.start(container);
      } catch (err) {
        // The supervisor never took the stream over: left open, it would hold the
        // engine connection (and this process) for as long as the engine keeps it.
        (output as unknown as { destroy(): void }).destroy();
        throw err;
      }
      options.onEvent?.({ type: 'status', status: 'running', container_id: container.id });
      if (run.stdin !== undefined) output.end(run.stdin);
      return await superviseContainer(
        {
          runId: run.runId,
          image: run.image,
          container,
          output,
          startedAt,
          remainingMs: run.limits.timeoutMs,
          timeoutMs: run.limits.timeoutMs,
          memoryBytes: run.limits.memoryBytes,
          signal: options.signal,
          emit: options.onEvent ?? (() => {}),
        },
        this.supervisorDeps,
      );
    } finally {
      await this.cleanUp(container, volumeName ? [volumeName] : []);
    }
  }

  /** Follows a container left by an earlier process to its end, then removes it. */
  async follow(orphan: OrphanedRun, options: RunOptions = {}): Promise<RunResult> {
    const container = this.docker.container(orphan.containerId);
    const info = await this.docker.inspect(orphan.containerId);
    const volumes = (info.Mounts ?? []).filter((m) => m.Type === 'volume' && m.Name).map((m) => m.Name!);
    try {
      // The engine's log, with the time it stamped on each line: it may have lost its
      // start, and the times tell the supervisor what the earlier process already logged.
      const output = await this.docker.logs(container, { follow: true, timestamps: true });
      return await superviseContainer(
        {
          runId: orphan.runId,
          image: orphan.image,
          container,
          output,
          startedAt: orphan.startedAt,
          remainingMs: orphan.timeoutMs - (Date.now() - orphan.startedAt.getTime()),
          timeoutMs: orphan.timeoutMs,
          memoryBytes: info.HostConfig.Memory ?? 0,
          earlier: orphan.earlier,
          signal: options.signal,
          emit: options.onEvent ?? (() => {}),
        },
        this.supervisorDeps,
      );
    } finally {
      await this.cleanUp(container, volumes);
    }
  }

  /** Removal is best effort and never masks the run's own outcome. */
  async cleanUp(container: EngineContainer | undefined, volumes: string[]): Promise<void> {
    if (container) await this.docker.remove(container).catch((err) => this.log.warn({ container: container.id, err: String(err) }, 'container removal failed'));
    for (const volume of volumes) {
      await this.docker.removeVolume(volume).catch((err) => this.log.warn({ volume, err: String(err) }, 'volume removal failed'));
    }
  }
}
