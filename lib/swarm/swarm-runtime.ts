/**
 * ContainerRuntime on a Docker Swarm, through one manager's Engine API
 * (SLIPWAY_BACKEND=swarm, DOCKER_HOST naming the manager). Each run is a labelled service
 * in `ReplicatedJob` mode (./service-spec.ts), its payload files Swarm configs
 * (./payload-configs.ts); "container" in the seam's terms is the run's service here.
 * What Swarm cannot do is a capability this backend lacks: stdin (tasks take none),
 * exec and files in a live container (so no sandboxes), and building images.
 */
import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import type { Logger } from 'pino';
import { ActiveRuns } from '../active-runs.js';
import type { SupervisorSettings } from '../docker/container-supervisor.js';
import type { DockerConnection } from '../docker/docker-runtime.js';
import { SlipwayError } from '../errors.js';
import { LABEL_MANAGED, LABEL_RUN_ID } from '../labels.js';
import { unsupported } from '../runtime/capabilities.js';
import type {
  LiveUsageReading,
  ContainerDetails,
  ContainerRuntime,
  ContainerSummary,
  ExecOutcome,
  FollowTarget,
  ImageInfo,
  LabelSelector,
  PullOptions,
  RunOptions,
  RunSpec,
  RuntimeCapabilities,
  RuntimeVersion,
} from '../runtime/container-runtime.js';
import type { RunResult } from '../../schemas/run-result.js';
import { checkDaemon, requireManager, type DaemonReport } from './daemon-check.js';
import { droppedSettings } from './limits-readback.js';
import { checkPayload, createPayloadConfigs, removeConfigs } from './payload-configs.js';
import { buildServiceSpec } from './service-spec.js';
import { latestTask, superviseService, SWARM_USAGE_UNAVAILABLE, TERMINAL } from './service-supervisor.js';
import { SwarmClient, type SwarmService, type SwarmTask } from './swarm-client.js';

/** How long a daemon check answers /readyz before it is made again. */
const READINESS_TTL_MS = 30_000;

function labelFilter(labels: LabelSelector): string[] {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`);
}

export class SwarmRuntime implements ContainerRuntime {
  readonly backend = 'swarm';
  readonly capabilities: RuntimeCapabilities = { stdin: false, exec: false, files: false, build: false, oomDetection: false, watchRemoval: false, placement: true };
  private readonly client: SwarmClient;
  private report: { at: number; value: Promise<DaemonReport> } | undefined;

  constructor(
    connection: DockerConnection,
    private readonly settings: SupervisorSettings,
    private readonly log: Logger,
  ) {
    this.client = new SwarmClient(new Docker(connection as Docker.DockerOptions), log);
  }

  async ping(): Promise<void> {
    await this.client.ping();
    await requireManager(this.client);
  }

  async readiness(): Promise<Record<string, string>> {
    if (!this.report || Date.now() - this.report.at > READINESS_TTL_MS) {
      const value = checkDaemon(this.client);
      this.report = { at: Date.now(), value };
      // Said once per check in the log too, so an operator sees it without polling /readyz.
      void value.then(
        (r) => r.problems.forEach((p) => this.log.warn(p)),
        () => (this.report = undefined),
      );
    }
    return (await this.report.value).details;
  }

  version(): Promise<RuntimeVersion> {
    return this.client.runtimeVersion(this.backend);
  }

  /** The image as the manager has it: the nodes use their own copies (or pull them) when a task starts. */
  imageInfo(ref: string): Promise<ImageInfo | null> {
    return this.client.imageInfo(ref);
  }

  /** Pulls onto the manager (which checks the reference and the registry); each node pulls for itself when its task starts. */
  pullImage(ref: string, options: PullOptions = {}): Promise<void> {
    const onProgress = options.onProgress ?? (() => {});
    return this.client.pull(ref, options.auth, (event) => onProgress({ status: String(event.status ?? '') }), options.signal);
  }

  async run(spec: RunSpec, options: RunOptions = {}): Promise<RunResult> {
    if (spec.stdin !== undefined) throw unsupported(this.backend, 'stdin', 'stdin');
    checkPayload(spec.files, this.backend);
    options.signal?.throwIfAborted();
    const configs = await createPayloadConfigs(this.client, spec.runId, spec.files, spec.labels);
    let serviceId: string | undefined;
    try {
      const asked = buildServiceSpec(spec, configs, this.settings.stopGraceSeconds);
      serviceId = await this.client.createService(asked);
      const createdAt = new Date();
      const dropped = droppedSettings(asked, (await this.client.inspectService(serviceId)).Spec);
      if (dropped.length > 0) throw new SlipwayError('SLIPWAY_ERR_ENGINE', `the Swarm manager did not keep the run's limits, so it was not started: ${dropped.join('; ')}`);
      options.onEvent?.({ type: 'status', status: 'running', container_id: serviceId });
      return await superviseService(
        {
          runId: spec.runId,
          image: spec.image,
          serviceId,
          createdAt,
          remainingMs: spec.limits.timeoutMs,
          timeoutMs: spec.limits.timeoutMs,
          memoryBytes: spec.limits.memoryBytes,
          signal: options.signal,
          emit: options.onEvent ?? (() => {}),
        },
        { client: this.client, active: options.active ?? new ActiveRuns(), settings: this.settings, log: this.log },
      );
    } finally {
      await this.cleanUp(serviceId, configs.map((c) => c.id));
    }
  }

  async follow(target: FollowTarget, options: RunOptions = {}): Promise<RunResult> {
    const service = await this.client.inspectService(target.containerId);
    const configIds = await this.configsOf(target.runId);
    try {
      const limits = (service.Spec.TaskTemplate as { Resources?: { Limits?: { MemoryBytes?: number } } } | undefined)?.Resources?.Limits;
      return await superviseService(
        {
          runId: target.runId,
          image: target.image,
          serviceId: service.ID,
          createdAt: target.startedAt,
          remainingMs: target.timeoutMs - (Date.now() - target.startedAt.getTime()),
          timeoutMs: target.timeoutMs,
          memoryBytes: limits?.MemoryBytes ?? 0,
          earlier: target.earlier,
          signal: options.signal,
          emit: options.onEvent ?? (() => {}),
        },
        { client: this.client, active: options.active ?? new ActiveRuns(), settings: this.settings, log: this.log },
      );
    } finally {
      await this.cleanUp(service.ID, configIds);
    }
  }

  exec(): Promise<ExecOutcome> {
    return Promise.reject(unsupported(this.backend, 'exec'));
  }

  /** Sandboxes live by exec: a Swarm task has none (`capabilities.exec` is false). */
  startSandbox(): Promise<string> {
    return Promise.reject(unsupported(this.backend, 'exec'));
  }

  removeSandbox(): Promise<void> {
    return Promise.reject(unsupported(this.backend, 'exec'));
  }

  /** Said rather than left out: the manager's API has no task's usage (./service-supervisor.ts). */
  async usage(): Promise<LiveUsageReading> {
    return { usage: null, unavailable: SWARM_USAGE_UNAVAILABLE };
  }

  putFiles(): Promise<void> {
    return Promise.reject(unsupported(this.backend, 'files'));
  }

  getFiles(): Promise<Readable> {
    return Promise.reject(unsupported(this.backend, 'files'));
  }

  list(labels: LabelSelector, filter: { state?: string | undefined } = {}): Promise<ContainerSummary[]> {
    return this.listWith({ label: labelFilter(labels) }, filter);
  }

  listAll(filter: { state?: string | undefined } = {}): Promise<ContainerSummary[]> {
    return this.listWith({}, filter);
  }

  async inspect(idOrName: string): Promise<ContainerDetails> {
    const service = await this.client.inspectService(idOrName);
    const task = latestTask(await this.client.tasksOf([service.ID]));
    return { id: service.ID, labels: service.Spec.Labels ?? {}, running: !task || !TERMINAL.has(task.Status.State) };
  }

  /** Removing the service stops its task (SIGTERM, then SIGKILL after the service's grace). */
  async stop(serviceId: string): Promise<boolean> {
    const details = await this.inspect(serviceId);
    await this.remove(details.id);
    return details.running;
  }

  async remove(serviceId: string): Promise<void> {
    let runId: string | undefined;
    try {
      runId = (await this.client.inspectService(serviceId)).Spec.Labels?.[LABEL_RUN_ID];
    } catch (err) {
      if (!(err instanceof SlipwayError && err.code === 'SLIPWAY_ERR_CONTAINER_NOT_FOUND')) throw err;
    }
    await this.client.removeService(serviceId);
    if (runId) await removeConfigs(this.client, await this.configsOf(runId));
  }

  /** Configs of runs no unfinished run owns (a crash between creating them and the service, or before removing them). */
  async pruneRunStorage(labels: LabelSelector, keepRunIds: Set<string>): Promise<string[]> {
    const stale = (await this.client.listConfigs({ label: labelFilter(labels) })).filter((c) => !keepRunIds.has(c.Spec.Labels?.[LABEL_RUN_ID] ?? ''));
    const failed = new Set(await removeConfigs(this.client, stale.map((c) => c.ID), 1));
    return stale.filter((c) => !failed.has(c.ID)).map((c) => c.Spec.Name);
  }

  /** Not offered (`capabilities.watchRemoval` is false): the watch is in place and never reports. */
  async watchRemoval(): Promise<void> {}

  private async configsOf(runId: string): Promise<string[]> {
    return (await this.client.listConfigs({ label: [`${LABEL_MANAGED}=true`, `${LABEL_RUN_ID}=${runId}`] })).map((c) => c.ID);
  }

  /** Best effort, never masking the run's own outcome: the service first, then the configs it held. */
  private async cleanUp(serviceId: string | undefined, configIds: string[]): Promise<void> {
    if (serviceId) await this.client.removeService(serviceId).catch((err) => this.log.warn({ service: serviceId, err: String(err) }, 'service removal failed'));
    const failed = await removeConfigs(this.client, configIds);
    if (failed.length > 0) this.log.warn({ configs: failed }, 'config removal failed');
  }

  private async listWith(filters: Record<string, string[]>, filter: { state?: string | undefined }): Promise<ContainerSummary[]> {
    const services = await this.client.listServices(filters);
    const tasks = await this.client.tasksOf(services.map((s) => s.ID));
    const summaries = services.map((s) => summary(s, latestTask(tasks.filter((t) => t.ServiceID === s.ID))));
    return filter.state ? summaries.filter((s) => s.state === filter.state) : summaries;
  }
}

/** A service in the seam's container terms: `running` until its task ended (a pending task will run), then `exited`. */
function summary(service: SwarmService, task: SwarmTask | undefined): ContainerSummary {
  const ended = task !== undefined && TERMINAL.has(task.Status.State);
  const image = ((service.Spec.TaskTemplate as { ContainerSpec?: { Image?: string } } | undefined)?.ContainerSpec?.Image ?? '').replace(/@sha256:[0-9a-f]+$/, '');
  return {
    id: service.ID,
    name: service.Spec.Name ?? '',
    image,
    state: ended ? 'exited' : 'running',
    status: task ? `task ${task.Status.State}${task.Status.Err ? `: ${task.Status.Err}` : ''}` : 'no task yet',
    createdAt: new Date(service.CreatedAt ?? Date.now()),
    labels: service.Spec.Labels ?? {},
  };
}
