/**
 * The library both doors call (operations/ declares them): one method per operation,
 * taking validated input (schemas/) and returning the result shapes of schemas/. This
 * class wires the parts together and delegates: the run kinds build run plans
 * (lib/run-kinds/), the run manager runs them (lib/runs.ts), housekeeping runs on its
 * timer (lib/maintenance.ts). Configuration arrives as plain settings; nothing here
 * knows about HTTP or MCP.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ActiveRuns } from './active-runs.js';
import { invalidInput, policyDenied } from './errors.js';
import { NO_METRICS, type Metrics } from './metrics.js';
import { assertImageAllowed, ownerFilter, type Caller, type CallerPolicy } from './caller.js';
import { listContainers, stopContainer } from './containers.js';
import { Images } from './images.js';
import { mergePresets, presetOf, type LanguagePreset } from './language-presets.js';
import { Maintenance } from './maintenance.js';
import { ownedLabels } from './labels.js';
import type { RepoBuildSettings } from './repo-build.js';
import { imageRunPlan } from './run-kinds/image-run.js';
import { payloadRunPlan } from './run-kinds/payload-run.js';
import { repoRunPlan } from './run-kinds/repo-run.js';
import type { RunControlInput, RunKindContext } from './run-kinds/run-context.js';
import { decodeRunCursor, encodeRunCursor } from './run-cursor.js';
import type { PullProgress } from './run-events.js';
import { RunLogs, type StoredLogEvent } from './run-log.js';
import { RunQueue } from './run-queue.js';
import { toPublicRecord } from './run-record.js';
import { RunStore } from './run-store.js';
import { RunManager, type RunPlan } from './runs.js';
import { AgentFiles } from './sandboxes/agent.js';
import { SandboxManager, type SandboxSettings } from './sandboxes/sandbox-manager.js';
import { freshWorkspace, pooledWorkspace, type PayloadWorkspaceSettings } from './run-kinds/payload-workspace.js';
import { SandboxStore } from './sandboxes/sandbox-store.js';
import { NO_POOL, type PoolSettings } from './sandboxes/pool-settings.js';
import { poolReadiness, WarmPool } from './sandboxes/warm-pool.js';
import { resolveLimits } from './policy.js';
import type * as S from '../schemas/sandboxes.js';
import type { ArchiveInput, UploadArchiveResult } from '../schemas/sandbox-archives.js';
import type { ArchiveDownload } from './sandboxes/sandbox-files.js';
import type { ContainerRuntime, RegistryAuth, RunOptions, RuntimeVersion } from './runtime/container-runtime.js';
import type { ContainerRunInput } from '../schemas/container-run.js';
import type { ListContainersInput, ListContainersResult, StopContainerInput, StopContainerResult } from '../schemas/containers.js';
import type { PullImageInput, PullImageResult } from '../schemas/images.js';
import type { LanguageList } from '../schemas/languages.js';
import type { PayloadRunInput } from '../schemas/payload-run.js';
import type { RepoRunInput, RepoRunResult } from '../schemas/repo-run.js';
import type { ServerInfo } from '../schemas/server-info.js';
import { describeServer, type EngineState } from './server-info.js';
import type { RunResult } from '../schemas/run-result.js';
import type { ListRunsInput, ListRunsResult, RunLogsInput, RunLogsResult, RunRecord } from '../schemas/runs.js';

const MIB = 1024 * 1024;

export interface SlipwaySettings {
  instance: string;
  dataDir: string;
  /** Output kept per stream in a result: the head a run followed after a restart keeps from the earlier process. */
  outputCapBytes: number;
  /** The policy of the open caller (no tokens), and the base every token's policy starts from. */
  policy: CallerPolicy;
  payloadUser: string;
  languagePresets: Record<string, Partial<LanguagePreset>>;
  registryAuth: Record<string, RegistryAuth>;
  /** Registry hosts a pull may reach even at internal addresses (SLIPWAY_REGISTRY_ALLOWED_HOSTS). */
  registryAllowedHosts?: string[] | undefined;
  repoBuild: RepoBuildSettings;
  sandboxes: SandboxSettings;
  /** SLIPWAY_POOL: sandbox containers kept warm with the server's default limits; none when absent. */
  pool?: PoolSettings | undefined;
  /** Payload runs' /workspace and return_files bounds (defaults: 64 MiB; 20 files, 1 MiB each, 4 MiB in all). */
  payloadWorkspace?: PayloadWorkspaceSettings | undefined;
  /** Output after which a sandbox exec is stopped (SLIPWAY_OUTPUT_LIMIT_BYTES); runs have it in their runtime. */
  outputLimitBytes?: number | undefined;
  runs: {
    maxConcurrent: number;
    maxQueued: number;
    retryAfterSeconds: number;
    logMaxBytes: number;
    retentionSeconds: number;
    sweepIntervalSeconds: number;
    /** Fair sharing of slots and storage between callers (server/config.ts). */
    maxRunningPerCaller: number;
    maxQueuedPerCaller: number;
    storagePerCallerBytes: number;
    recordsPerCaller: number;
  };
}

/** How a caller starts a run: wait for it or not, as whom, with which retry key. */
export interface RunCallOptions extends Omit<RunOptions, 'active'> {
  caller?: Caller | undefined;
  idempotencyKey?: string | undefined;
}

export class Slipway {
  readonly activeRuns = new ActiveRuns();
  readonly runs: RunManager;
  readonly logs: RunLogs;
  /** Every request's caller on a server without tokens. */
  readonly openCaller: Caller;
  private readonly store: RunStore;
  private readonly images: Images;
  private readonly kinds: RunKindContext;
  private readonly maintenance: Maintenance;
  readonly sandboxes: SandboxManager;
  /** Sandbox containers ready ahead of demand; `claim` is for anything that wants one (sandboxes, pooled payload runs). */
  readonly pool: WarmPool;
  private readonly sandboxStore: SandboxStore;

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly settings: SlipwaySettings,
    private readonly log: Logger,
    /** Monitoring (lib/metrics.ts): sandboxes and the warm pool register their gauges here. */
    readonly metrics: Metrics = NO_METRICS,
  ) {
    this.images = new Images(runtime, settings.registryAuth, settings.registryAllowedHosts);
    this.store = new RunStore(settings.dataDir);
    this.logs = new RunLogs(join(settings.dataDir, 'logs'), settings.runs.logMaxBytes);
    const queue = new RunQueue(settings.runs.maxConcurrent, settings.runs.maxQueued, settings.runs.retryAfterSeconds, {
      running: settings.runs.maxRunningPerCaller,
      queued: settings.runs.maxQueuedPerCaller,
    });
    this.runs = new RunManager(this.store, this.logs, queue, this.activeRuns, log, {
      maxBytesPerCaller: settings.runs.storagePerCallerBytes,
      maxRecordsPerCaller: settings.runs.recordsPerCaller,
    }, metrics);
    this.openCaller = { name: null, seesAll: true, policy: settings.policy };
    this.sandboxStore = new SandboxStore(settings.dataDir);
    const agent = new AgentFiles(settings.sandboxes.agentBinary);
    const outputLimitBytes = settings.outputLimitBytes ?? 64 * MIB;
    // The open caller's policy is the server's: its defaults are what a create that asks for nothing gets.
    const poolLimits = resolveLimits({}, settings.policy);
    this.pool = new WarmPool({
      runtime, instance: settings.instance, settings: settings.pool ?? NO_POOL, limits: poolLimits, runtimeName: settings.policy.runtime, metrics,
      log: log.child({ component: 'warm-pool' }),
      ensureImage: (ref, signal) => this.images.ensure(ref, 'missing', undefined, signal).then(() => undefined),
      spec: (sandboxId, entry, labels) => this.sandboxes.containerSpec({ sandboxId, image: entry.image, env: entry.env, labels, limits: poolLimits, runtime: settings.policy.runtime }),
    });
    this.sandboxes = new SandboxManager({
      runtime, store: this.sandboxStore, settings: settings.sandboxes, instance: settings.instance, user: settings.payloadUser,
      outputLimitBytes, log, agent, pool: this.pool,
    });
    // Every stored sandbox is live: deleted and expired ones leave the table.
    metrics.observe('sandboxes_live', () => this.sandboxStore.list().length);
    this.kinds = {
      runtime,
      images: this.images,
      activeRuns: this.activeRuns,
      instance: settings.instance,
      log,
      presets: mergePresets(settings.languagePresets),
      payloadUser: settings.payloadUser,
      keepAliveUser: settings.sandboxes.keepAliveUser,
      repoBuild: settings.repoBuild,
      // A payload of a preset or image the warm pool keeps, with its default limits, runs in a pooled container.
      acquireWorkspace: pooledWorkspace(this.pool, freshWorkspace(runtime)),
      agentFiles: () => agent.files(),
      payloadWorkspace: settings.payloadWorkspace ?? { workspaceBytes: 64 * MIB, returnFiles: { maxCount: 20, maxFileBytes: MIB, maxTotalBytes: 4 * MIB } },
      outputLimitBytes,
    };
    this.maintenance = new Maintenance({
      runtime,
      store: this.store,
      logs: this.logs,
      runs: this.runs,
      activeRuns: this.activeRuns,
      instance: settings.instance,
      outputCapBytes: settings.outputCapBytes,
      repoBuild: settings.repoBuild,
      retentionSeconds: settings.runs.retentionSeconds,
      sweepIntervalSeconds: settings.runs.sweepIntervalSeconds,
      log,
      // Sandboxes first: their live containers are what run reconciliation must keep, and so are this process's pooled ones.
      reconcileSandboxes: async () => new Set([...(await this.sandboxes.reconcile()), ...this.pool.ids()]),
      endInterruptedExec: (runId, containerId) => this.sandboxes.endInterruptedExec(runId, containerId),
    });
  }

  /** Reconciles run records with the engine (after a restart) and starts the housekeeping timer. */
  async init(): Promise<void> {
    // Checked at start-up too, not only when /readyz is asked: a backend's warnings reach the log at once.
    void this.readiness().then(
      (details) => details && this.log.info({ details }, 'backend readiness'),
      (err) => this.log.warn({ err: String(err) }, 'backend readiness check failed'),
    );
    await this.maintenance.start();
    this.sandboxes.startSweep();
    // After reconciliation: it removed the pooled containers an earlier process left unclaimed.
    this.pool.start();
  }

  /** Deletes runs past retention (answers how many), old build images and stale clones. */
  sweep(): number {
    return this.maintenance.sweep();
  }

  /** execute_docker_container */
  async runImage(input: ContainerRunInput & RunControlInput, options: RunCallOptions = {}): Promise<RunResult> {
    return this.start(imageRunPlan(this.kinds, input, this.callerOf(options)), input, options);
  }

  /** execute_with_payload */
  async runPayload(input: PayloadRunInput & RunControlInput, options: RunCallOptions = {}): Promise<RunResult> {
    return this.start(payloadRunPlan(this.kinds, input, this.callerOf(options)), input, options);
  }

  /** build_and_execute_github_repo: clone, build (or reuse the cached build), then run like an image. */
  async runRepo(input: RepoRunInput, options: RunCallOptions = {}): Promise<RepoRunResult> {
    return this.start(await repoRunPlan(this.kinds, input, this.callerOf(options)), input, options);
  }

  /** GET /v1/runs: newest first, keyset-paginated by an opaque cursor (lib/run-cursor.ts). */
  listRuns(input: ListRunsInput, caller: Caller = this.openCaller): ListRunsResult {
    if (input.owner !== undefined && !caller.seesAll && input.owner !== caller.name) {
      throw policyDenied('owner', 'only an admin token lists the runs of other owners');
    }
    const owner = input.owner ?? ownerFilter(caller);
    const limit = input.limit ?? 50;
    const before = input.cursor ? decodeRunCursor(input.cursor) : undefined;
    const rows = this.store.list({ status: input.status, kind: input.kind, since: input.since, until: input.until, owner, limit: limit + 1, before });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const nextCursor = rows.length > limit && last ? encodeRunCursor({ created_at: last.created_at, id: last.run_id }) : null;
    const records = page.map((r) => toPublicRecord({ ...r, log_truncated: r.log_truncated || this.logs.isTruncated(r.run_id) }));
    // Summaries by default: a page of 200 runs with a MiB of output each is no listing.
    return { runs: input.include === 'output' ? records : records.map(({ stdout: _out, stderr: _err, ...summary }) => summary), next_cursor: nextCursor };
  }

  /** get_run_logs: one page of a run's events, to poll where SSE is not an option. */
  runLogs(input: RunLogsInput, caller: Caller = this.openCaller): RunLogsResult {
    const record = this.runs.get(input.run_id, ownerFilter(caller));
    const afterId = input.after_event_id ?? 0;
    const events = this.logs.page(input.run_id, afterId, input.limit ?? 1000).map(({ bytes: _bytes, ...event }) => event);
    const last = events.at(-1);
    return {
      run_id: input.run_id,
      status: record.status,
      events,
      last_event_id: last?.id ?? afterId,
      complete: last?.type === 'end',
    };
  }

  /** list_languages / GET /v1/languages: the presets this server offers. */
  languages(): LanguageList {
    return { languages: Object.entries(this.kinds.presets).map(([name, p]) => ({ name, image: p.image, file: p.file, command: p.command })) };
  }

  /** get_run: a run's record as its caller may see it (404 for someone else's). */
  getRun(runId: string, caller: Caller = this.openCaller): RunRecord {
    return toPublicRecord(this.runs.get(runId, ownerFilter(caller)));
  }

  /** cancel_run: a queued run never starts; a running one is stopped and removed. */
  async cancelRun(runId: string, caller: Caller = this.openCaller): Promise<RunRecord> {
    return toPublicRecord(await this.runs.cancel(runId, ownerFilter(caller)));
  }

  /**
   * A run's log events after `afterId`, following it until it ends (the SSE door). The
   * run is looked up first, so an unknown or foreign run is a 404 before any event.
   */
  followRunLog(runId: string, afterId: number, caller: Caller, signal: AbortSignal): AsyncIterable<StoredLogEvent> {
    this.runs.get(runId, ownerFilter(caller));
    return this.logs.read(runId, afterId, signal);
  }

  /** list_running_containers */
  listContainers(input: ListContainersInput, caller: Caller = this.openCaller): Promise<ListContainersResult> {
    return listContainers(this.runtime, this.settings.instance, input, caller);
  }

  /** stop_container: SIGTERM, `timeout` seconds of grace, SIGKILL; the run ends `cancelled`. */
  stopContainer(input: StopContainerInput, caller: Caller = this.openCaller): Promise<StopContainerResult> {
    return stopContainer({ runtime: this.runtime, instance: this.settings.instance, activeRuns: this.activeRuns, runs: this.runs }, input, caller);
  }

  /** pull_docker_image */
  async pullImage(input: PullImageInput, options: { onProgress?: (p: PullProgress) => void; caller?: Caller; signal?: AbortSignal } = {}): Promise<PullImageResult> {
    assertImageAllowed(input.image, (options.caller ?? this.openCaller).policy);
    const result = await this.images.pull(input.image, options.onProgress, options.signal);
    return { success: true, ...result };
  }

  /** create_sandbox: from `image` or a language preset's image, hardened like a run, kept until deleted or expired. */
  async createSandbox(input: S.CreateSandboxInput, caller: Caller = this.openCaller): Promise<S.SandboxRecord> {
    const preset = presetOf(this.kinds.presets, input.language);
    const ref = input.image ?? preset?.image;
    if (!ref) throw invalidInput('language', 'either language or image is required');
    assertImageAllowed(ref, caller.policy, input.image ? 'image' : 'language');
    const ensure = () => this.images.ensure(ref, input.pull_policy ?? 'missing').then(() => undefined);
    return this.sandboxes.create(input, caller, { ref, env: preset?.env, ensure, poolable: input.pull_policy !== 'always' });
  }

  /** sandbox_exec: a run of kind `exec` in the caller's sandbox. */
  async sandboxExec(input: S.SandboxExecInput, options: RunCallOptions = {}): Promise<RunResult> {
    return this.start(this.sandboxes.execPlan(input, this.callerOf(options)), input, options);
  }

  async writeSandboxFiles(input: S.WriteFilesInput, caller: Caller = this.openCaller): Promise<S.WriteFilesResult> {
    return this.sandboxes.files.write(this.sandboxes.filesTarget(input.sandbox_id, caller), input.files);
  }

  async readSandboxFile(input: S.ReadFileInput, caller: Caller = this.openCaller): Promise<S.ReadFileResult> {
    return this.sandboxes.files.read(this.sandboxes.filesTarget(input.sandbox_id, caller), input.path);
  }

  async listSandboxFiles(input: S.ListFilesInput, caller: Caller = this.openCaller): Promise<S.ListFilesResult> {
    return this.sandboxes.files.list(this.sandboxes.filesTarget(input.sandbox_id, caller), input.path);
  }

  /** A tar unpacked into a directory of the caller's sandbox (REST only). */
  async uploadSandboxArchive(input: ArchiveInput, tar: Buffer, caller: Caller = this.openCaller): Promise<UploadArchiveResult> {
    return this.sandboxes.files.upload(this.sandboxes.filesTarget(input.sandbox_id, caller), input.path, tar);
  }

  /** A directory of the caller's sandbox as a streamed tar (REST only). */
  async downloadSandboxArchive(input: ArchiveInput, caller: Caller = this.openCaller): Promise<ArchiveDownload> {
    return this.sandboxes.files.download(this.sandboxes.filesTarget(input.sandbox_id, caller), input.path);
  }

  /** The gateway is closing: runs under way are stopped and their containers removed; sandboxes stay. */
  async shutdown(): Promise<void> {
    this.maintenance.stop();
    this.sandboxes.stop();
    await this.pool.drain();
    // Every run, started here or followed after a restart, is the run manager's.
    await this.runs.shutdown();
  }

  /** After the last request: the database is closed, and the backend lets go of what it shared (an agent volume no sandbox uses). */
  async close(): Promise<void> {
    this.store.close();
    this.sandboxStore.close();
    await this.runtime.close?.(ownedLabels(this.settings.instance)).catch((err: unknown) => this.log.warn({ err: String(err) }, 'closing the backend failed'));
  }

  async ping(): Promise<void> {
    await this.runtime.ping();
  }

  /** The backend and its engine's version (the start-up line). */
  engineVersion(): Promise<RuntimeVersion> {
    return this.runtime.version();
  }

  /** get_server_info: the caller's effective policy, the server's bounds, the engine's state. */
  async serverInfo(caller: Caller = this.openCaller): Promise<ServerInfo> {
    const backend = this.runtime.backend;
    const engine: EngineState = await this.runtime.version().then(
      (version) => ({ backend, version }),
      (err: unknown) => ({ backend, error: err instanceof Error ? err.message : String(err) }),
    );
    return describeServer(caller, this.settings, engine, () => this.store.owners(), this.pool.state());
  }

  /** The backend's own readiness notes and the warm pool's state (/readyz `details`), when there are any. */
  async readiness(): Promise<Record<string, string> | undefined> {
    const backend = await this.runtime.readiness?.();
    const pool = poolReadiness(this.pool.state());
    return backend || pool ? { ...backend, ...pool } : undefined;
  }

  private callerOf(options: RunCallOptions): Caller {
    return options.caller ?? this.openCaller;
  }

  private start(plan: RunPlan, control: RunControlInput, options: RunCallOptions): Promise<RepoRunResult> {
    const caller = this.callerOf(options);
    return this.runs.start(plan, {
      wait: control.wait ?? true,
      owner: caller.name,
      maxOwnerRuns: caller.policy.maxConcurrentRuns,
      idempotencyKey: options.idempotencyKey ?? control.idempotency_key,
      signal: options.signal,
      onEvent: options.onEvent,
    });
  }
}
