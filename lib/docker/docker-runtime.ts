/**
 * ContainerRuntime on the Docker Engine API (and on Podman's Docker-compatible API).
 * Each method is one or two engine calls through DockerClient, so the seam adds no
 * round trips: a run is still create, attach, start, wait, inspect, remove.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import type { Logger } from 'pino';
import { LABEL_KIND, LABEL_RUN_ID } from '../labels.js';
import { NO_METRICS, type Metrics } from '../metrics.js';
import { packFiles } from '../payload-files.js';
import type { PullProgress } from '../run-events.js';
import type {
  ContainerDetails,
  ContainerRuntime,
  ContainerSummary,
  ExecOptions,
  ExecOutcome,
  ExecSpec,
  FileEntry,
  FollowTarget,
  ImageInfo,
  LabelSelector,
  LiveUsageReading,
  PullOptions,
  RunOptions,
  RunSpec,
  SandboxSpec,
  RuntimeCapabilities,
  RuntimeVersion,
} from '../runtime/container-runtime.js';
import type { RunResult } from '../../schemas/run-result.js';
import { AgentVolumes } from './agent-volume.js';
import { DockerBuilder } from './docker-builder.js';
import { DockerClient } from './docker-client.js';
import { EngineIdentity, FLAVOUR_FACTS } from './engine-flavour.js';
import { runExec } from './docker-exec.js';
import { Executor, type ExecutorSettings } from './executor.js';
import { liveUsage } from './live-usage.js';
import { RunCgroups } from './run-usage.js';
import { removeSandboxObjects, startSandboxContainer } from './sandbox-container.js';

/** How to reach the engine: a unix socket, or a tcp host and port (server/config.ts `docker`). */
export interface DockerConnection {
  socketPath?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  protocol?: 'http' | undefined;
}

export class DockerRuntime implements ContainerRuntime {
  readonly backend = 'docker';
  private readonly baseCapabilities: RuntimeCapabilities = { stdin: true, exec: true, files: true, build: true, oomDetection: true, watchRemoval: true, placement: false };
  readonly builder: DockerBuilder;
  private readonly client: DockerClient;
  private readonly engine: EngineIdentity;
  private readonly executor: Executor;
  private readonly cgroups: RunCgroups;
  private readonly agentVolumes: AgentVolumes;

  /** Podman's Docker API is this same backend; it only cannot tell OOM kills apart (known after the first ping). */
  get capabilities(): RuntimeCapabilities {
    const known = this.engine.known;
    return known === undefined ? this.baseCapabilities : { ...this.baseCapabilities, oomDetection: FLAVOUR_FACTS[known].reportsOom };
  }

  constructor(
    connection: DockerConnection,
    private readonly settings: ExecutorSettings,
    private readonly log: Logger,
    metrics: Metrics = NO_METRICS,
  ) {
    const engine = new Docker(connection as Docker.DockerOptions);
    this.client = new DockerClient(engine, log, metrics);
    this.engine = new EngineIdentity(this.client);
    this.cgroups = new RunCgroups(this.client, this.engine, connection.socketPath !== undefined, log);
    this.executor = new Executor(this.client, this.engine, settings, log, this.cgroups);
    this.builder = new DockerBuilder(this.client);
    this.agentVolumes = new AgentVolumes(this.client, log);
  }

  async ping(): Promise<void> {
    await this.client.ping();
    // Which engine this is (Docker or Podman), once per connection, while it answers.
    await this.engine.flavour().catch((err) => this.log.warn({ err: String(err) }, 'engine version unknown'));
    // Where runs' usage will come from, settled before the first run rather than during it.
    await this.cgroups.probe();
  }

  version(): Promise<RuntimeVersion> {
    return this.client.runtimeVersion(this.backend);
  }

  imageInfo(ref: string): Promise<ImageInfo | null> {
    return this.client.imageInfo(ref);
  }

  pullImage(ref: string, options: PullOptions = {}): Promise<void> {
    const onProgress = options.onProgress ?? (() => {});
    return this.client.pull(ref, options.auth, (event) => onProgress(pullProgress(event)), options.signal);
  }

  run(spec: RunSpec, options?: RunOptions): Promise<RunResult> {
    return this.executor.run(spec, options);
  }

  follow(target: FollowTarget, options?: RunOptions): Promise<RunResult> {
    return this.executor.follow(target, options);
  }

  exec(containerId: string, spec: ExecSpec, options: ExecOptions = {}): Promise<ExecOutcome> {
    return runExec(this.client, containerId, spec, options, this.settings.outputCapBytes);
  }

  /** The engine's `oom` event for the container: sent for any process of it the kernel kills for memory. */
  sawOomKill(containerId: string, since: Date): Promise<boolean> {
    return this.client.sawEvent(containerId, 'oom', since);
  }

  startSandbox(spec: SandboxSpec): Promise<string> {
    return startSandboxContainer(this.client, spec, this.settings, this.engine, this.agentVolumes, this.log);
  }

  removeSandbox(labels: LabelSelector): Promise<void> {
    return removeSandboxObjects(this.client, labels);
  }

  async usage(containerId: string): Promise<LiveUsageReading> {
    return liveUsage(this.client, await this.cgroups.probe(), containerId);
  }

  async putFiles(containerId: string, dir: string, files: FileEntry[]): Promise<void> {
    await this.client.putArchive(this.client.container(containerId), await packFiles(files), dir);
  }

  async getFiles(containerId: string, path: string): Promise<Readable> {
    return (await this.client.getArchive(this.client.container(containerId), path)) as Readable;
  }

  async list(labels: LabelSelector, filter: { state?: string | undefined } = {}): Promise<ContainerSummary[]> {
    return this.listWith({ label: labelFilter(labels) }, filter);
  }

  listAll(filter: { state?: string | undefined } = {}): Promise<ContainerSummary[]> {
    return this.listWith({}, filter);
  }

  async inspect(idOrName: string): Promise<ContainerDetails> {
    const info = await this.client.inspect(idOrName);
    return { id: info.Id, labels: info.Config.Labels ?? {}, running: info.State.Running };
  }

  stop(containerId: string, graceSeconds: number): Promise<boolean> {
    return this.client.stop(this.client.container(containerId), graceSeconds);
  }

  remove(containerId: string): Promise<void> {
    return this.client.remove(this.client.container(containerId));
  }

  async pruneRunStorage(labels: LabelSelector, keepRunIds: Set<string>): Promise<string[]> {
    const removed: string[] = [];
    for (const volume of await this.client.listVolumes({ label: labelFilter(labels) })) {
      // The shared agent volumes are no run's: pruneSharedStorage removes them once unused.
      if (volume.Labels?.[LABEL_KIND] === 'agent' || keepRunIds.has(volume.Labels?.[LABEL_RUN_ID] ?? '')) continue;
      removed.push(volume.Name);
      await this.client.removeVolume(volume.Name).catch((err) => this.log.warn({ volume: volume.Name, err: String(err) }, 'volume removal failed'));
    }
    return removed;
  }

  pruneSharedStorage(labels: LabelSelector): Promise<string[]> {
    return this.agentVolumes.prune(labels);
  }

  async close(labels: LabelSelector): Promise<void> {
    await this.agentVolumes.release(labels);
  }

  async watchRemoval(labels: LabelSelector, onRemoved: (containerId: string) => void, signal: AbortSignal): Promise<void> {
    // Docker calls a removal `destroy`, Podman `remove`; each ignores the other's word.
    const stream = (await this.client.events({ type: ['container'], event: ['destroy', 'remove'], label: labelFilter(labels) }, signal)) as Readable;
    createInterface({ input: stream })
      .on('line', (line) => {
        const id = parseEventId(line);
        if (id) onRemoved(id);
      })
      // Aborting resets the connection: that is the watch ending, not a failure.
      .on('error', (err) => signal.aborted || this.log.warn({ err: String(err) }, 'removal watch ended'));
  }

  private async listWith(filters: Record<string, string[]>, filter: { state?: string | undefined }): Promise<ContainerSummary[]> {
    const containers = await this.client.listContainers(filter.state ? { ...filters, status: [filter.state] } : filters);
    return containers.map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      image: c.Image,
      state: c.State,
      status: c.Status,
      createdAt: new Date(c.Created * 1000),
      labels: c.Labels,
    }));
  }
}

function labelFilter(labels: LabelSelector): string[] {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`);
}

function parseEventId(line: string): string | undefined {
  try {
    const event = JSON.parse(line) as { id?: string; Actor?: { ID?: string } };
    return event.Actor?.ID ?? event.id;
  } catch {
    return undefined;
  }
}

/** The engine's progress message as the doors show it; byte counts only where the engine gives them. */
function pullProgress(event: Record<string, unknown>): PullProgress {
  const detail = event.progressDetail as { current?: number; total?: number } | undefined;
  const progress: PullProgress = { status: String(event.status ?? '') };
  if (typeof event.id === 'string') progress.id = event.id;
  if (detail?.current !== undefined) progress.current = detail.current;
  if (detail?.total !== undefined) progress.total = detail.total;
  return progress;
}
