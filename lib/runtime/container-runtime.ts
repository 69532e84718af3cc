/**
 * THE SEAM between Slipway and whatever runs its containers. Everything above it
 * (operations, the run manager, reconciliation, the doors) speaks only these neutral
 * terms; each backend (lib/docker/, and Podman or Swarm to come) implements them and
 * keeps its engine's facts (multiplexed streams, exit 137, putArchive, volumes) to
 * itself. A backend declares what it can do in `capabilities`; the operations check
 * them before creating anything (lib/runtime/capabilities.ts), and a backend asked for
 * something it cannot do refuses with SLIPWAY_ERR_UNSUPPORTED rather than half doing it.
 */
import type { Readable } from 'node:stream';
import type { ActiveRuns } from '../active-runs.js';
import type { PruneOptions, PruneResult, RepoBuildDeps, RepoImageInput, RepoImageOptions, RepoImageResult } from '../repo-build.js';
import type { PreparedFile } from '../payload-files.js';
import type { ResolvedLimits } from '../policy.js';
import type { EarlierOutput } from '../resume-point.js';
import type { PullProgress, RunEvent } from '../run-events.js';
import type { RunResult } from '../../schemas/run-result.js';

/** What a backend can do beyond running a spec to its end. */
export interface RuntimeCapabilities {
  /** Feeds a run's `stdin` (Swarm tasks take none). */
  stdin: boolean;
  /** Runs a command in a live container (sandboxes). */
  exec: boolean;
  /** Puts files into and gets files out of a live container. */
  files: boolean;
  /** Builds images (`builder` is set). */
  build: boolean;
  /** Tells an OOM kill apart from other kills (Podman 4.3 reports exit 137 only). */
  oomDetection: boolean;
  /** Reports containers removed behind its back (`watchRemoval`). */
  watchRemoval: boolean;
  /** Places runs on nodes by constraints (`RunSpec.placement`; Swarm). */
  placement: boolean;
}

export type Capability = keyof RuntimeCapabilities;

/** Label equality a listing must match, all of them (`io.slipway.managed=true`, ...). */
export type LabelSelector = Record<string, string>;

/** A file for a run or a live container, already checked by lib/payload-files.ts. */
export type FileEntry = PreparedFile;

/** Files placed under `dir` before the process starts: entries, or a tar the caller packed. */
export type RunFiles = { dir: string } & ({ entries: FileEntry[]; tar?: undefined } | { tar: Buffer; entries?: undefined });

/** One hardened run: every field is written by Slipway from validated values. */
export interface RunSpec {
  runId: string;
  image: string;
  cmd?: string[] | undefined;
  entrypoint?: string[] | undefined;
  env?: Record<string, string> | undefined;
  workingDir?: string | undefined;
  user?: string | undefined;
  labels: Record<string, string>;
  limits: ResolvedLimits;
  /** Text written to the process's stdin, which is then closed (needs `capabilities.stdin`). */
  stdin?: string | undefined;
  files?: RunFiles | undefined;
  /** An OCI runtime the engine knows (`runsc`); the backend's default when absent. */
  runtime?: string | undefined;
  /** Placement constraints from the caller's policy (`node.labels.pool==batch`); needs `capabilities.placement` when not empty. */
  placement?: string[] | undefined;
}

export interface RunOptions {
  signal?: AbortSignal | undefined;
  onEvent?: ((event: RunEvent) => void) | undefined;
  /** Where the live run registers its stop handle, so stop_container and cancel reach it. */
  active?: ActiveRuns | undefined;
}

/** A run a previous gateway process started, to be followed to its end and removed. */
export interface FollowTarget {
  runId: string;
  containerId: string;
  image: string;
  startedAt: Date;
  timeoutMs: number;
  /** What the earlier process logged of the run's output (lib/resume-point.ts): its head and where to resume. */
  earlier: EarlierOutput;
}

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  state: ContainerState | string;
  /** The backend's human-readable status (`Up 3 seconds`). */
  status: string;
  createdAt: Date;
  labels: Record<string, string>;
}

export interface ContainerDetails {
  id: string;
  labels: Record<string, string>;
  running: boolean;
}

export interface ImageInfo {
  id: string;
  /** The registry digest, when the image came from a registry. */
  digest: string | null;
  labels: Record<string, string>;
  /** The image's ENTRYPOINT, where the backend knows it: an exec must prepend it itself (a run's container gets it from the engine). */
  entrypoint?: string[] | undefined;
}

/** Credentials for one registry, from the server's configuration only (never a caller's). */
export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress?: string;
}

export interface PullOptions {
  auth?: RegistryAuth | undefined;
  onProgress?: ((progress: PullProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface ExecSpec {
  cmd: string[];
  env?: Record<string, string> | undefined;
  user?: string | undefined;
  workingDir?: string | undefined;
  /** Written to the process's stdin, which is then closed (text, or bytes such as a tar). */
  stdin?: string | Buffer | undefined;
  timeoutMs: number;
  /** Output kept per stream in the outcome (the rest is counted, and still reaches `onOutput`); the backend's cap when absent. */
  maxOutputBytes?: number | undefined;
}

export interface ExecOptions {
  signal?: AbortSignal | undefined;
  /** Each chunk of output as it arrives. */
  onOutput?: ((stream: 'stdout' | 'stderr', chunk: Buffer) => void) | undefined;
  /**
   * Where stdout goes instead (bytes such as a tar, streamed to a client): written with
   * backpressure, so the process is read no faster than `stdout` drains; neither kept in
   * the outcome nor given to `onOutput`. The caller ends or destroys it.
   */
  stdout?: NodeJS.WritableStream | undefined;
}

/**
 * How an exec ended. A timed-out or aborted exec stops being waited for; its processes
 * may still run in the container: killing them is the caller's (lib/sandboxes/ does it
 * through the agent in the sandbox), the backend only reports.
 */
export interface ExecOutcome {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted?: boolean | undefined;
  stdoutTruncated?: boolean | undefined;
  stderrTruncated?: boolean | undefined;
}

/**
 * A long-lived container (a sandbox): hardened like a run, kept alive by `keepAlive`,
 * with a bounded writable workspace and read-only agent files placed before it starts.
 */
export interface SandboxSpec {
  sandboxId: string;
  image: string;
  env?: Record<string, string> | undefined;
  workingDir: string;
  /** `uid:gid`, numeric: the workspace is owned by it. */
  user: string;
  labels: Record<string, string>;
  limits: ResolvedLimits;
  runtime?: string | undefined;
  /** The process that keeps the container up (it must never exit on its own). */
  keepAlive: string[];
  /**
   * `uid:gid` the keep-alive (and the container's init) runs as: never `user`, so with no
   * capabilities the sandbox's processes cannot signal it and stop the container.
   */
  keepAliveUser: string;
  /** A writable, size-bounded directory owned by `user` (counted against memory where the backend uses tmpfs). */
  workspace: { dir: string; sizeBytes: number; /** Programs in it may be executed (a payload's `./tool.sh`); tmpfs is noexec otherwise. */ exec?: boolean | undefined };
  /** Files (the agent) readable and executable by the sandbox, never writable by it, under `dir`. */
  agent: { dir: string; files: FileEntry[] };
}

/** What a live container uses now, as its backend measured it at `sampledAt`. */
export interface LiveUsage {
  /** CPU time since the container started, all cores together. */
  cpuSeconds: number;
  /** Memory held now, without page cache the kernel may drop (tmpfs files count: they cannot be dropped). */
  memoryBytes: number;
  /** The most it held at once since it started; null where the backend does not keep it. */
  memoryPeakBytes: number | null;
  sampledAt: Date;
}

/** A live container's usage, or a sentence saying why the backend cannot tell. */
export type LiveUsageReading = { usage: LiveUsage; unavailable?: undefined } | { usage: null; unavailable: string };

export interface RuntimeVersion {
  backend: string;
  version: string;
  apiVersion?: string | undefined;
}

/**
 * Images built from repositories (optional: `capabilities.build`). The repository
 * recipe (resolve, cache look-up, clone, build) is lib/docker/repo-image.ts for Docker; a backend hands it
 * its engine and keeps the build cache pruned.
 */
export interface ImageBuilder {
  repoImage(deps: RepoBuildDeps, input: RepoImageInput, options?: RepoImageOptions): Promise<RepoImageResult>;
  prune(options: PruneOptions): Promise<PruneResult>;
}

export interface ContainerRuntime {
  /** The backend's name, as SLIPWAY_BACKEND spells it. */
  readonly backend: string;
  readonly capabilities: RuntimeCapabilities;
  /** Set exactly when `capabilities.build` is. */
  readonly builder?: ImageBuilder | undefined;

  /** Resolves when the backend answers; throws SLIPWAY_ERR_ENGINE_UNAVAILABLE when not. */
  ping(): Promise<void>;
  /**
   * What /readyz shows beside `ready`: settings the backend relies on but cannot set per
   * run, as checked on the engine (Swarm: the nodes' daemon configuration). Optional.
   */
  readiness?(): Promise<Record<string, string>>;
  version(): Promise<RuntimeVersion>;

  /** The image as the backend has it, or null when it has not. */
  imageInfo(ref: string): Promise<ImageInfo | null>;
  /**
   * Pulls to the end (progress as it goes). Failures speak to the caller, naming `image`:
   * an unknown image is SLIPWAY_ERR_IMAGE_NOT_FOUND (`image <ref> was not found: <why>`),
   * any other SLIPWAY_ERR_PULL_FAILED (`cannot pull <ref>: <why>`).
   */
  pullImage(ref: string, options?: PullOptions): Promise<void>;

  /**
   * Runs the spec to its end. Failures before the process starts throw catalogue errors
   * and leave nothing behind; once it started, every outcome (exit code, `failed`,
   * `oom_killed`, `timed_out`, `cancelled`, output) is a RunResult, and the container and
   * whatever held its files are removed.
   */
  run(spec: RunSpec, options?: RunOptions): Promise<RunResult>;
  /** Follows a run a previous process started to its end, then removes it. */
  follow(target: FollowTarget, options?: RunOptions): Promise<RunResult>;

  /** Runs a command in a live container (`capabilities.exec`). */
  exec(containerId: string, spec: ExecSpec, options?: ExecOptions): Promise<ExecOutcome>;
  /**
   * Whether the kernel's OOM killer killed a process in the live container since `since`
   * (an exec's process may be OOM-killed while the container lives on). Present where
   * `capabilities.exec` and `capabilities.oomDetection` are.
   */
  sawOomKill?(containerId: string, since: Date): Promise<boolean>;
  /**
   * Creates and starts a sandbox container (`capabilities.exec`); answers its id. A
   * failure leaves nothing behind.
   */
  startSandbox(spec: SandboxSpec): Promise<string>;
  /** Removes every container and storage carrying `labels` (one sandbox's); missing ones are not an error. */
  removeSandbox(labels: LabelSelector): Promise<void>;
  /**
   * A live container's CPU time and memory now (a sandbox's, for get_sandbox). Optional:
   * a backend without it is reported as unable to tell.
   */
  usage?(containerId: string): Promise<LiveUsageReading>;
  /** Places files under `dir` in a live container (`capabilities.files`). */
  putFiles(containerId: string, dir: string, files: FileEntry[]): Promise<void>;
  /** A tar of `path` in a live container (`capabilities.files`). */
  getFiles(containerId: string, path: string): Promise<Readable>;

  /** Every container carrying all of `labels`, running or not. */
  list(labels: LabelSelector, filter?: { state?: string | undefined }): Promise<ContainerSummary[]>;
  /** Every container the backend has, Slipway's or not (list_running_containers `all_engine`). */
  listAll(filter?: { state?: string | undefined }): Promise<ContainerSummary[]>;
  /** One container by id or name; SLIPWAY_ERR_CONTAINER_NOT_FOUND when it does not exist. */
  inspect(idOrName: string): Promise<ContainerDetails>;
  /** SIGTERM, then SIGKILL after `graceSeconds`; says whether it was running. */
  stop(containerId: string, graceSeconds: number): Promise<boolean>;
  /** Removes the container (and its anonymous storage); best effort is the caller's choice. */
  remove(containerId: string): Promise<void>;
  /**
   * Removes what the backend keeps beside containers for runs (Docker: volumes) carrying
   * `labels` and none of `keepRunIds`; answers the names removed.
   */
  pruneRunStorage(labels: LabelSelector, keepRunIds: Set<string>): Promise<string[]>;
  /**
   * Removes what the backend shares between containers (Docker: the agent volumes)
   * carrying `labels` that no container uses, except what this process uses now; answers
   * the names removed. Optional: backends sharing nothing have none.
   */
  pruneSharedStorage?(labels: LabelSelector): Promise<string[]>;
  /** The gateway is closing: shared storage carrying `labels` (this process's too) goes where no container uses it (a live sandbox's stays). */
  close?(labels: LabelSelector): Promise<void>;
  /**
   * Calls `onRemoved` with the id of each container carrying `labels` that is removed
   * (by anyone), until `signal` aborts; resolves once the watch is in place
   * (`capabilities.watchRemoval`).
   */
  watchRemoval(labels: LabelSelector, onRemoved: (containerId: string) => void, signal: AbortSignal): Promise<void>;
}
