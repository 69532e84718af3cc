/**
 * Runs one container to its end: create (hardened, labelled), attach, copy files in,
 * start, feed stdin, then hand over to the supervisor; and always remove the container
 * and its volume. It can also pick up a container a previous gateway process started
 * (`follow`). It never sees a request or a reply, only an AbortSignal and events.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { ActiveRuns } from '../active-runs.js';
import { packFiles } from '../payload-files.js';
import type { FollowTarget, RunOptions, RunSpec } from '../runtime/container-runtime.js';
import { buildContainerSpec } from './container-spec.js';
import { superviseContainer, type SupervisorSettings } from './container-supervisor.js';
import type { DockerClient, EngineContainer } from './docker-client.js';
import type { EngineIdentity } from './engine-flavour.js';
import { runCgroupParent } from './cgroup-usage.js';
import { RunCgroups } from './run-usage.js';
import { hostConfigLimits } from './host-config-limits.js';
import { assertLimitsKept, limitsShape, LimitsVerdicts } from '../runtime/limits-check.js';
import type Docker from 'dockerode';
import type { RunResult } from '../../schemas/run-result.js';

export interface ExecutorSettings extends SupervisorSettings {
  runtime?: string | undefined;
}

export class Executor {
  private readonly verdicts = new LimitsVerdicts();

  constructor(
    private readonly docker: DockerClient,
    private readonly engine: EngineIdentity,
    private readonly settings: ExecutorSettings,
    private readonly log: Logger,
    /** Where runs' usage comes from; by default the engine's samples only. */
    private readonly cgroups: RunCgroups = new RunCgroups(docker, engine, false, log),
  ) {}

  /** The supervisor's dependencies; a run nobody can stop from outside registers nowhere shared. */
  private supervisorDeps(options: RunOptions) {
    return { docker: this.docker, engine: this.engine, active: options.active ?? new ActiveRuns(), settings: this.settings, log: this.log };
  }

  /**
   * Refuses a created container whose limits the engine dropped (lib/runtime/limits-check.ts).
   * The create answer carries only the id, so this is an inspect, made once per shape of
   * limits (and OCI runtime) while the verdict holds, not once per run.
   */
  private async checkLimits(container: EngineContainer, spec: Docker.ContainerCreateOptions): Promise<void> {
    const requested = hostConfigLimits(spec.HostConfig!);
    const shape = limitsShape(requested, spec.HostConfig!.Runtime ?? '');
    if (!this.verdicts.needsCheck(shape)) return;
    const reported = hostConfigLimits((await this.docker.inspect(container.id)).HostConfig);
    const { name } = await this.engine.facts().catch(() => ({ name: 'Docker-API' }));
    assertLimitsKept(name, requested, reported);
    this.verdicts.kept(shape);
  }

  /**
   * Runs the container. Failures before the process starts (create, files) throw
   * catalogue errors and leave nothing behind; once it has started, every outcome is
   * a RunResult.
   */
  async run(run: RunSpec, options: RunOptions = {}): Promise<RunResult> {
    let volumeName: string | undefined;
    let container: EngineContainer | undefined;
    let cgroupParent: string | undefined;
    try {
      // Cancelled while its image was pulled: nothing is created, the process never starts.
      options.signal?.throwIfAborted();
      if (run.files) {
        volumeName = `slipway-${run.runId}-${randomBytes(4).toString('hex')}`;
        await this.docker.createVolume(volumeName, run.labels);
      }
      const [image, parent] = await Promise.all([this.docker.inspectImage(run.image), this.cgroups.parentFor(run.runId)]);
      cgroupParent = parent;
      const spec = buildContainerSpec({
        ...run,
        imageVolumes: Object.keys(image?.Config?.Volumes ?? {}),
        name: `slipway-${run.runId}`,
        openStdin: run.stdin !== undefined,
        stopGraceSeconds: this.settings.stopGraceSeconds,
        runtime: run.runtime ?? this.settings.runtime,
        volume: volumeName && run.files ? { name: volumeName, target: run.files.dir } : undefined,
        cgroupParent,
      });
      container = await this.docker.createContainer(spec);
      await this.checkLimits(container, spec);
      // The files go into the volume as one tar (putArchive), owned by root and read-only to the run.
      if (run.files) await this.docker.putArchive(container, run.files.tar ?? (await packFiles(run.files.entries)), run.files.dir);
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
          usage: await this.cgroups.watch(run.runId, container, cgroupParent !== undefined),
        },
        this.supervisorDeps(options),
      );
    } finally {
      await this.cleanUp(container, volumeName ? [volumeName] : []);
      if (cgroupParent) this.cgroups.release(run.runId);
    }
  }

  /** Follows a container left by an earlier process to its end, then removes it. */
  async follow(orphan: FollowTarget, options: RunOptions = {}): Promise<RunResult> {
    const container = this.docker.container(orphan.containerId);
    const info = await this.docker.inspect(orphan.containerId);
    const volumes = (info.Mounts ?? []).filter((m) => m.Type === 'volume' && m.Name).map((m) => m.Name!);
    // An earlier process created it under the run's own cgroup parent: its figures are read, and the parent removed, here.
    const underParent = (info.HostConfig as { CgroupParent?: string }).CgroupParent === runCgroupParent(orphan.runId);
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
          usage: await this.cgroups.watch(orphan.runId, container, underParent),
        },
        this.supervisorDeps(options),
      );
    } finally {
      await this.cleanUp(container, volumes);
      if (underParent) this.cgroups.release(orphan.runId);
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
