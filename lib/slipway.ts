/**
 * The library both doors call: one method per operation, taking validated input
 * (schemas/) and returning the result shapes of schemas/. Configuration arrives as
 * plain settings; nothing here knows about HTTP or MCP.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ActiveRuns } from './active-runs.js';
import { toArgv } from './command-line.js';
import { invalidInput, policyDenied } from './errors.js';
import { NO_METRICS, type Metrics } from './metrics.js';
import { sweepStaleClones } from './git-clone.js';
import type { RepoBuildSettings } from './repo-build.js';
import { checkRepoInput } from './repo-input.js';
import { failedBuild, repoBuildFields } from './repo-run-result.js';
import type { RepoRunInput, RepoRunResult } from '../schemas/repo-run.js';
import { Images, type RegistryAuth } from './images.js';
import { runLabels, type RunKind } from './labels.js';
import { mergePresets, type LanguagePreset } from './language-presets.js';
import { payloadFiles, prepareFiles } from './payload-files.js';
import { resolveLimits, type ResolvedLimits } from './policy.js';
import { assertImageAllowed, ownerFilter, type Caller, type CallerPolicy } from './caller.js';
import { listContainers, stopContainer } from './containers.js';
import type { ContainerRunInput } from '../schemas/container-run.js';
import type { ListContainersInput, ListContainersResult, StopContainerInput, StopContainerResult } from '../schemas/containers.js';
import type { PullImageInput, PullImageResult } from '../schemas/images.js';
import type { PayloadRunInput } from '../schemas/payload-run.js';
import type { LanguageList } from '../schemas/languages.js';
import type { PullProgress } from './images.js';
import { reconcile } from './reconcile.js';
import type { RunEvent } from './run-events.js';
import { RunLogs, type StoredLogEvent } from './run-log.js';
import { RunQueue } from './run-queue.js';
import { RunStore } from './run-store.js';
import { RunManager, toPublicRecord, type RunPlan } from './runs.js';
import { requireCapability } from './runtime/capabilities.js';
import type { ContainerRuntime, RunOptions, RunSpec, RuntimeVersion } from './runtime/container-runtime.js';
import type { ListRunsInput, ListRunsResult, RunLogsInput, RunLogsResult, RunRecord } from '../schemas/runs.js';
import type { RunResult } from '../schemas/run-result.js';

/** The run-control fields (schemas/common.ts RunControl) as they arrive with any run input. */
export interface RunControlInput {
  wait?: boolean | undefined;
  idempotency_key?: string | undefined;
}

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

/**
 * The part of a request that says what to run: how to wait and the retry key are not
 * part of it, so a retry that only changes them is still the same request.
 */
function withoutRunControl<T extends RunControlInput>(input: T): Omit<T, keyof RunControlInput> {
  const { wait: _wait, idempotency_key: _key, ...rest } = input;
  return rest;
}

/** Where payload files are placed inside the container. */
export const PAYLOAD_DIR = '/workspace';

export class Slipway {
  readonly activeRuns = new ActiveRuns();
  readonly runs: RunManager;
  readonly logs: RunLogs;
  private readonly store: RunStore;
  private readonly images: Images;
  private readonly presets: Record<string, LanguagePreset>;
  private sweepTimer: NodeJS.Timeout | undefined;
  private reconcilePending = false;
  /** Every request's caller on a server without tokens. */
  readonly openCaller: Caller;

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly settings: SlipwaySettings,
    private readonly log: Logger,
    /** Monitoring (lib/metrics.ts): sandboxes and the warm pool register their gauges here. */
    readonly metrics: Metrics = NO_METRICS,
  ) {
    this.images = new Images(runtime, settings.registryAuth, settings.registryAllowedHosts);
    this.presets = mergePresets(settings.languagePresets);
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
  }

  /**
   * Reconciles run records with the engine (after a restart) and starts the retention
   * sweep. An unreachable engine is logged, not fatal: readiness reports it.
   */
  async init(): Promise<void> {
    this.sweep();
    this.sweepTimer = setInterval(() => this.sweep(), this.settings.runs.sweepIntervalSeconds * 1000).unref();
    await this.reconcile();
  }

  /** Brings records and engine into agreement; retried by the sweep while the engine is away. */
  private async reconcile(): Promise<void> {
    try {
      await reconcile({ runtime: this.runtime, store: this.store, logs: this.logs, runs: this.runs, active: this.activeRuns, instance: this.settings.instance, outputCapBytes: this.settings.outputCapBytes, log: this.log });
      this.reconcilePending = false;
    } catch (err) {
      this.reconcilePending = true;
      this.log.error({ err: String(err) }, 'could not reconcile runs with the engine; will retry');
    }
  }

  /** Deletes records and logs of runs that ended longer ago than the retention, and old build images. */
  sweep(): number {
    if (this.reconcilePending) void this.reconcile();
    const expired = this.store.expire(new Date(Date.now() - this.settings.runs.retentionSeconds * 1000));
    for (const runId of expired) this.logs.remove(runId);
    const { instance, repoBuild } = this.settings;
    void this.runtime.builder?.prune({ instance, retentionSeconds: repoBuild.build.imageRetentionSeconds, log: this.log }).catch((err) =>
      this.log.warn({ err: String(err) }, 'pruning build images failed'),
    );
    const cloneLifetime = repoBuild.git.cloneTimeoutSeconds + repoBuild.build.timeoutSeconds + 60;
    void sweepStaleClones(repoBuild.git.workDir, cloneLifetime).then(
      (removed) => removed.length > 0 && this.log.info({ removed }, 'removed clone directories left by an earlier process'),
      (err) => this.log.warn({ err: String(err) }, 'sweeping clone directories failed'),
    );
    return expired.length;
  }

  /** execute_docker_container */
  async runImage(input: ContainerRunInput & RunControlInput, options: RunCallOptions = {}): Promise<RunResult> {
    const caller = options.caller ?? this.openCaller;
    assertImageAllowed(input.image, caller.policy);
    this.requireStdin(input.stdin);
    const limits = resolveLimits(input, caller.policy);
    const cmd = toArgv(input.command, 'command');
    const entrypoint = toArgv(input.entrypoint, 'entrypoint');
    const plan: RunPlan = {
      kind: 'image',
      image: input.image,
      timeoutMs: limits.timeoutMs,
      request: withoutRunControl(input),
      execute: async ({ runId, signal, emit }) => {
        await this.ensureImage(input.image, input.pull_policy, emit, signal);
        return this.runtime.run(this.imageContainer(runId, 'image', input.image, input, { cmd, entrypoint }, limits, caller), { signal, onEvent: emit, active: this.activeRuns });
      },
    };
    return this.start(plan, input, options);
  }

  /** execute_with_payload */
  async runPayload(input: PayloadRunInput & RunControlInput, options: RunCallOptions = {}): Promise<RunResult> {
    // hasOwn: `constructor` or `__proto__` is not a language.
    const preset = input.language !== undefined && Object.hasOwn(this.presets, input.language) ? this.presets[input.language] : undefined;
    if (input.language !== undefined && !preset) {
      throw invalidInput('language', `language must be one of ${Object.keys(this.presets).join(', ')} (got ${JSON.stringify(input.language)})`);
    }
    if (!preset && !input.image) throw invalidInput('language', 'either language or image is required');
    if (!preset && !input.command) throw invalidInput('command', 'command is required when no language is given');
    const image = input.image ?? preset!.image;
    const caller = options.caller ?? this.openCaller;
    assertImageAllowed(image, caller.policy, input.image ? 'image' : 'language');
    this.requireStdin(input.stdin);
    const limits = resolveLimits(input, caller.policy);
    const cmd = toArgv(input.command, 'command') ?? preset!.command;
    const { files, fieldOf } = payloadFiles(input, preset?.file);
    const entries = prepareFiles(files, fieldOf);
    const plan: RunPlan = {
      kind: 'payload',
      image,
      timeoutMs: limits.timeoutMs,
      request: withoutRunControl(input),
      execute: async ({ runId, signal, emit }) => {
        await this.ensureImage(image, input.pull_policy, emit, signal);
        return this.runtime.run(
          {
            runId,
            image,
            cmd,
            env: preset?.env ? { ...preset.env, ...input.environment } : input.environment,
            workingDir: PAYLOAD_DIR,
            user: this.settings.payloadUser,
            labels: this.labels(runId, 'payload', caller),
            limits,
            stdin: input.stdin,
            files: { entries, dir: PAYLOAD_DIR },
            runtime: caller.policy.runtime,
          },
          { signal, onEvent: emit, active: this.activeRuns },
        );
      },
    };
    return this.start(plan, input, options);
  }

  /** build_and_execute_github_repo: clone, build (or reuse the cached build), then run like an image. */
  async runRepo(input: RepoRunInput, options: RunCallOptions = {}): Promise<RepoRunResult> {
    const caller = options.caller ?? this.openCaller;
    if (!caller.policy.allowBuilds) throw policyDenied('repo_url', 'building repositories is not allowed by the server');
    requireCapability(this.runtime, 'build', 'repo_url');
    this.requireStdin(input.stdin);
    const builder = this.runtime.builder!;
    const limits = resolveLimits(input, caller.policy);
    const cmd = toArgv(input.command, 'command');
    const entrypoint = toArgv(input.entrypoint, 'entrypoint');
    await checkRepoInput(input, this.settings.repoBuild.git.allowedHosts);
    const deps = {
      log: this.log,
      instance: this.settings.instance,
      settings: { ...this.settings.repoBuild, build: { ...this.settings.repoBuild.build, network: caller.policy.buildNetwork } },
    };
    const plan: RunPlan = {
      kind: 'repo',
      image: input.repo_url,
      timeoutMs: limits.timeoutMs,
      request: withoutRunControl(input),
      execute: async ({ runId, signal, emit }) => {
        const buildCaller = { owner: caller.name, imageAllow: caller.policy.imageAllow, runtime: caller.policy.runtime };
        // A FROM image comes through the gateway's own image path (its pull checks and credentials), never a daemon pull.
        const ensureImage = (ref: string, stepSignal: AbortSignal) => this.ensureImage(ref, 'missing', emit, stepSignal);
        const built = await builder.repoImage({ ...deps, caller: buildCaller, runId, ensureImage }, input, { signal, onEvent: emit });
        const build = repoBuildFields(built);
        if (built.build_failed) return { ...failedBuild(runId, built), ...build };
        const container = this.imageContainer(runId, 'repo', built.image_tag, input, { cmd, entrypoint }, limits, caller);
        const result = await this.runtime.run(container, { signal, onEvent: emit, active: this.activeRuns });
        return { ...result, ...build };
      },
    };
    return this.start(plan, input, options);
  }

  private start(plan: RunPlan, control: RunControlInput, options: RunCallOptions): Promise<RunResult> {
    const caller = options.caller ?? this.openCaller;
    return this.runs.start(plan, {
      wait: control.wait ?? true,
      owner: caller.name,
      maxOwnerRuns: caller.policy.maxConcurrentRuns,
      idempotencyKey: options.idempotencyKey ?? control.idempotency_key,
      signal: options.signal,
      onEvent: options.onEvent,
    });
  }

  /** GET /v1/runs: newest first, keyset-paginated by an opaque cursor. */
  listRuns(input: ListRunsInput, caller: Caller = this.openCaller): ListRunsResult {
    const owner = ownerFilter(caller);
    const limit = input.limit ?? 50;
    let before: { created_at: string; id: string } | undefined;
    if (input.cursor) {
      try {
        before = JSON.parse(Buffer.from(input.cursor, 'base64url').toString('utf8')) as { created_at: string; id: string };
      } catch {
        throw invalidInput('cursor', 'cursor is not one this server gave');
      }
      if (typeof before?.created_at !== 'string' || typeof before.id !== 'string') throw invalidInput('cursor', 'cursor is not one this server gave');
    }
    const rows = this.store.list({ status: input.status, kind: input.kind, since: input.since, until: input.until, owner, limit: limit + 1, before });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > limit && last ? Buffer.from(JSON.stringify({ created_at: last.created_at, id: last.run_id })).toString('base64url') : null;
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
    return { languages: Object.entries(this.presets).map(([name, p]) => ({ name, image: p.image, file: p.file, command: p.command })) };
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

  /** The gateway is closing: runs under way are stopped and their containers removed. */
  async shutdown(): Promise<void> {
    clearInterval(this.sweepTimer);
    // Every run, started here or followed after a restart, is the run manager's.
    await this.runs.shutdown();
  }

  /** After the last request: the database is closed. */
  close(): void {
    this.store.close();
  }

  async ping(): Promise<void> {
    await this.runtime.ping();
  }

  /** The backend and its engine's version (the start-up line). */
  engineVersion(): Promise<RuntimeVersion> {
    return this.runtime.version();
  }

  /** The container of an image or repo run: the caller's command, environment and user in `image`. */
  private imageContainer(
    runId: string,
    kind: RunKind,
    image: string,
    input: { environment?: Record<string, string> | undefined; working_dir?: string | undefined; user?: string | undefined; stdin?: string | undefined },
    argv: { cmd: string[] | undefined; entrypoint: string[] | undefined },
    limits: ResolvedLimits,
    caller: Caller,
  ): RunSpec {
    return {
      runId,
      image,
      ...argv,
      env: input.environment,
      workingDir: input.working_dir,
      user: input.user,
      labels: this.labels(runId, kind, caller),
      limits,
      stdin: input.stdin,
      runtime: caller.policy.runtime,
    };
  }

  /** A backend without stdin (Swarm) refuses a run that has some, before anything is queued. */
  private requireStdin(stdin: string | undefined): void {
    if (stdin !== undefined) requireCapability(this.runtime, 'stdin', 'stdin');
  }

  private labels(runId: string, kind: RunKind, caller: Caller): Record<string, string> {
    return runLabels(this.settings.instance, runId, kind, caller.name);
  }

  private async ensureImage(image: string, policy: ContainerRunInput['pull_policy'], emit: (event: RunEvent) => void, signal: AbortSignal): Promise<void> {
    let announced = false;
    await this.images.ensure(image, policy ?? 'missing', (progress) => {
      if (!announced) emit({ type: 'status', status: 'pulling' });
      announced = true;
      emit({ type: 'pull', progress });
    }, signal);
  }
}
