/**
 * A payload run in a short-lived container with the agent (lib/sandboxes/agent.ts), on
 * backends that can exec: the container is acquired started and hardened like any run
 * (with a read-only root, and a bounded tmpfs /workspace owned by the run's user), the
 * files are written by the agent as that user, the command runs as an exec (stdin, env,
 * timeout and cancel killing its process tree, output as run events, OOM detected:
 * lib/agent-exec.ts), the requested files are collected (lib/return-files.ts), and the
 * container is released. Why not the engine's archive API: a tmpfs cannot be filled or
 * read through it (it sees the host's view), and a volume cannot be bounded.
 *
 * Where the container comes from is one function (`AcquireWorkspace`): a fresh one here;
 * a warm pool may answer a pre-started one for the same spec instead.
 */
import type { Logger } from 'pino';
import type { ActiveRuns } from '../active-runs.js';
import { execAsRun } from '../agent-exec.js';
import { LABEL_AGENT } from '../labels.js';
import { packFiles, type PreparedFile } from '../payload-files.js';
import type { ResolvedLimits } from '../policy.js';
import { collectOutputBytes, COLLECT_SCRIPT, parseCollected, type ReturnFilesBounds } from '../return-files.js';
import type { RunEvent } from '../run-events.js';
import type { ContainerRuntime, FileEntry, SandboxSpec } from '../runtime/container-runtime.js';
import { AGENT_DIR, AGENT_EXIT, agentScript, KEEP_ALIVE, UNPACK_AND_RUN_SCRIPT, UNPACK_FAILED_LINE, WORKSPACE } from '../sandboxes/agent.js';
import { workspaceWriteError, writeWorkspaceFiles } from '../sandboxes/sandbox-files.js';
import type { ReturnedFiles, RunResult } from '../../schemas/run-result.js';

/** Server configuration (server/config.ts). */
export interface PayloadWorkspaceSettings {
  /** The /workspace tmpfs: at most this, and at most half the run's memory (tmpfs pages count against it). */
  workspaceBytes: number;
  returnFiles: ReturnFilesBounds;
}

/** A started, hardened, labelled container with the agent, for one run. */
export interface WorkspaceContainer {
  containerId: string;
  /** Removes it (and whatever held its agent); called once, when the run is done. */
  release(): Promise<void>;
}

/**
 * Where a payload run's container comes from: a fresh one (`freshWorkspace`), or a warm
 * pool's claim for the same spec (`pooledWorkspace`); `poolable` is false when a pooled
 * container would not do (a fresh pull was asked for).
 */
export type AcquireWorkspace = (spec: SandboxSpec, options: { poolable: boolean }) => Promise<WorkspaceContainer>;

/** Creates and starts a container for the spec; releasing removes everything carrying its labels. */
export function freshWorkspace(runtime: ContainerRuntime): AcquireWorkspace {
  return async (spec) => ({
    containerId: await runtime.startSandbox(spec),
    release: () => runtime.removeSandbox(spec.labels),
  });
}

/** What a warm pool (lib/sandboxes/warm-pool.ts) offers a payload run: one claim, matched exactly, never returned. */
export interface WorkspacePool {
  claim(
    image: string,
    request: { env?: Record<string, string> | undefined; limits?: ResolvedLimits | undefined; runtime?: string | undefined },
  ): Promise<{ containerId: string; discard(): Promise<void> } | undefined>;
}

/**
 * A pooled container when the pool holds one made exactly as this spec's (image,
 * environment, limits, runtime), else a fresh one. A claimed container serves this one
 * run and is discarded after it: the pool never sees it again.
 */
export function pooledWorkspace(pool: WorkspacePool, fresh: AcquireWorkspace): AcquireWorkspace {
  return async (spec, options) => {
    const claimed = options.poolable ? await pool.claim(spec.image, { env: spec.env ?? {}, limits: spec.limits, runtime: spec.runtime }) : undefined;
    return claimed ? { containerId: claimed.containerId, release: () => claimed.discard() } : fresh(spec, options);
  };
}

/** What a payload run in a workspace needs of the run kinds' context (run-context.ts). */
export interface PayloadWorkspaceDeps {
  runtime: ContainerRuntime;
  log: Logger;
  /** Where the live run registers its stop handle, so stop_container and cancel reach it. */
  activeRuns: ActiveRuns;
  payloadUser: string;
  /** The keep-alive's own uid:gid (SLIPWAY_SANDBOX_KEEPALIVE_USER): the program cannot signal it. */
  keepAliveUser: string;
  /** Where the container comes from: `freshWorkspace`, or a warm pool's claim. */
  acquireWorkspace: AcquireWorkspace;
  /** The agent's files (lib/sandboxes/agent.ts AgentFiles), read once. */
  agentFiles: () => Promise<FileEntry[]>;
  payloadWorkspace: PayloadWorkspaceSettings;
  /** Output after which the run is stopped (SLIPWAY_OUTPUT_LIMIT_BYTES). */
  outputLimitBytes: number;
}

/** One payload run, as payload-run.ts resolved it. */
export interface PayloadJob {
  image: string;
  cmd: string[];
  /** The run's environment, given to the exec. */
  env?: Record<string, string> | undefined;
  /** The container's own: the preset's, as a warm pool's containers have it. */
  containerEnv: Record<string, string>;
  /** Whether a warm pool's container may serve it (not when a fresh pull was asked for). */
  poolable: boolean;
  stdin?: string | undefined;
  entries: PreparedFile[];
  /** Relative patterns (lib/return-files.ts returnPatterns); empty when none were asked. */
  returnPatterns: string[];
  labels: Record<string, string>;
  limits: ResolvedLimits;
  runtime?: string | undefined;
}

const FILE_OP_TIMEOUT_MS = 60_000;

export async function runPayloadInWorkspace(
  ctx: PayloadWorkspaceDeps,
  job: PayloadJob,
  run: { runId: string; signal: AbortSignal; emit: (event: RunEvent) => void },
): Promise<RunResult & Partial<ReturnedFiles>> {
  const { runtime, log } = ctx;
  // Cancelled while its image was pulled: nothing is created, the process never starts.
  run.signal.throwIfAborted();
  const settings = ctx.payloadWorkspace;
  const entrypoint = (await runtime.imageInfo(job.image))?.entrypoint ?? [];
  const container = await ctx.acquireWorkspace({
    sandboxId: run.runId,
    image: job.image,
    env: job.containerEnv,
    workingDir: WORKSPACE,
    user: ctx.payloadUser,
    // LABEL_AGENT: its main process is the keep-alive, so a restarted gateway knows it cannot follow the run (lib/reconcile.ts).
    labels: { ...job.labels, [LABEL_AGENT]: 'true' },
    limits: job.limits,
    runtime: job.runtime,
    keepAlive: KEEP_ALIVE,
    keepAliveUser: ctx.keepAliveUser,
    // Executable, as the read-only volume of files was before: a payload may ship `./tool.sh` or build a binary there.
    workspace: { dir: WORKSPACE, sizeBytes: Math.min(settings.workspaceBytes, Math.floor(job.limits.memoryBytes / 2)), exec: true },
    agent: { dir: AGENT_DIR, files: await ctx.agentFiles() },
  }, { poolable: job.poolable });
  const target = { containerId: container.containerId, image: job.image, user: ctx.payloadUser, memoryBytes: job.limits.memoryBytes, logContext: { runId: run.runId } };
  // stop_container and cancel reach the run here: its exec is stopped and its processes killed.
  const stopped = new AbortController();
  ctx.activeRuns.add({ runId: run.runId, containerId: container.containerId, stop: async () => stopped.abort() });
  try {
    const signal = AbortSignal.any([run.signal, stopped.signal]);
    const argv = [...entrypoint, ...job.cmd];
    // With no stdin of the caller's, the files are the exec's stdin and the agent unpacks
    // them before the program replaces it: one exec instead of two on the common path.
    const oneExec = !job.stdin;
    if (!oneExec) await writeWorkspaceFiles(runtime, target, job.entries, 'run\'s workspace');
    const exec = oneExec
      ? { argv: agentScript(UNPACK_AND_RUN_SCRIPT, argv), env: job.env, stdin: await packFiles(job.entries), workingDir: WORKSPACE, timeoutMs: job.limits.timeoutMs }
      : { argv, env: job.env, stdin: job.stdin, workingDir: WORKSPACE, timeoutMs: job.limits.timeoutMs };
    const ran = await execAsRun({ runtime, outputLimitBytes: ctx.outputLimitBytes, log }, target, exec, { ...run, signal, noun: 'run' });
    if (oneExec && ran.exit_code === AGENT_EXIT.unpack && ran.stderr.includes(UNPACK_FAILED_LINE)) throw workspaceWriteError(ran.stderr, 'run\'s workspace');
    const result = { ...ran, ...(await containerUsage(runtime, container.containerId)) };
    if (job.returnPatterns.length === 0 || result.status === 'cancelled') return result;
    return { ...result, ...(await collectFiles(runtime, target, run.runId, job.returnPatterns, settings.returnFiles, log)) };
  } finally {
    ctx.activeRuns.delete(run.runId);
    // The answer waits for the removal: once a run has answered, nothing of it runs on or
    // shows in a container list (callers and dashboards count on that).
    await container.release().catch((err) => log.warn({ runId: run.runId, container: container.containerId, err: String(err) }, 'container removal failed'));
  }
}

/** The container is the run's alone: its figures (files, agent and program together) are the run's usage. */
async function containerUsage(runtime: ContainerRuntime, containerId: string): Promise<Pick<RunResult, 'resource_usage' | 'resource_usage_unavailable'>> {
  const reading = runtime.usage ? await runtime.usage(containerId).catch((err) => ({ usage: null, unavailable: `reading the container's usage failed: ${String(err)}` })) : { usage: null, unavailable: 'this backend reports no usage' };
  if (!reading.usage) return { resource_usage: null, resource_usage_unavailable: reading.unavailable ?? null };
  const { cpuSeconds, memoryBytes, memoryPeakBytes } = reading.usage;
  return { resource_usage: { cpu_seconds: cpuSeconds, memory_peak_bytes: memoryPeakBytes ?? memoryBytes }, resource_usage_unavailable: null };
}

/** The files the patterns match, read through the agent within the bounds. */
async function collectFiles(
  runtime: ContainerRuntime,
  target: { containerId: string; user: string },
  runId: string,
  patterns: string[],
  bounds: ReturnFilesBounds,
  log: Logger,
): Promise<ReturnedFiles> {
  const out = await runtime.exec(target.containerId, {
    cmd: agentScript(COLLECT_SCRIPT, [runId, String(bounds.maxCount), String(bounds.maxFileBytes), String(bounds.maxTotalBytes), ...patterns]),
    user: target.user,
    timeoutMs: FILE_OP_TIMEOUT_MS,
    maxOutputBytes: collectOutputBytes(bounds),
  });
  if (out.exitCode !== 0) {
    log.warn({ runId, exitCode: out.exitCode, stderr: out.stderr.slice(0, 500) }, 'collecting return_files failed');
    return { files: [], files_truncated: false, files_refused: patterns.map((path) => ({ path, reason: 'the files could not be collected' })) };
  }
  return parseCollected(out.stdout, out.stdoutTruncated ?? false);
}
