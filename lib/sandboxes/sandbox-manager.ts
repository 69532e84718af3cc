/**
 * Sandboxes' lifetime and ownership: create within the caller's bounds (count, memory,
 * TTL), look up (another caller's sandbox is a 404, as if it did not exist), extend,
 * delete, and the sweep that deletes expired and idle ones. Records live in SQLite
 * (sandbox-store.ts); at start, `init` drops records whose container is gone or whose
 * time is up, and names the live ones that run reconciliation must keep.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Caller } from '../caller.js';
import { invalidInput, policyDenied, SlipwayError } from '../errors.js';
import { LABEL_SANDBOX_ID, ownedLabels, sandboxLabels } from '../labels.js';
import { resolveLimits, type ResolvedLimits } from '../policy.js';
import type { RunPlan } from '../runs.js';
import type { ContainerRuntime, SandboxSpec } from '../runtime/container-runtime.js';
import { requireCapability } from '../runtime/capabilities.js';
import { toArgv } from '../command-line.js';
import type { CreateSandboxInput, ExtendTtlInput, SandboxDetails, SandboxExecInput, SandboxRecord } from '../../schemas/sandboxes.js';
import { AgentFiles, AGENT_DIR, KEEP_ALIVE, WORKSPACE } from './agent.js';
import { killExec } from '../agent-exec.js';
import { execPlan } from './sandbox-exec.js';
import { SandboxFiles, workspacePath, type FilesTarget } from './sandbox-files.js';
import type { SandboxStore, StoredSandbox } from './sandbox-store.js';
import type { ClaimedContainer, WarmPool } from './warm-pool.js';
import { SandboxUsageReader } from './sandbox-usage.js';

/** Server configuration of sandboxes (server/config.ts). */
export interface SandboxSettings {
  /** A static busybox on the gateway's host, copied into every sandbox as its agent. */
  agentBinary: string;
  /** `uid:gid` of the keep-alive: another uid than the sandbox user's, so an exec cannot stop the container. */
  keepAliveUser: string;
  /** Largest tar a caller may upload, and largest directory a download sends (bytes). */
  archiveMaxBytes: number;
  /** Uploads one caller may send at once (each body is held in memory until checked). */
  archiveUploadsPerCaller: number;
  ttlDefaultSeconds: number;
  ttlMaxSeconds: number;
  idleDefaultSeconds: number;
  /** Size of each sandbox's /workspace tmpfs (it counts against the sandbox's memory: at most half of it). */
  workspaceBytes: number;
  /** Live sandboxes one caller may hold (429 beyond), and their memory limits summed (403 beyond). */
  maxPerCaller: number;
  memoryPerCallerBytes: number;
  readMaxBytes: number;
  listMaxEntries: number;
  sweepIntervalSeconds: number;
}

export interface SandboxDeps {
  runtime: ContainerRuntime;
  store: SandboxStore;
  settings: SandboxSettings;
  instance: string;
  /** The sandbox user, `uid:gid` (the payload user): processes and the workspace are its. */
  user: string;
  outputLimitBytes: number;
  log: Logger;
  /** The agent's files, shared with payload runs (read once); made from `settings.agentBinary` when absent. */
  agent?: AgentFiles | undefined;
  /** The warm pool (SLIPWAY_POOL), when one is configured: a matching create claims from it. */
  pool?: Pick<WarmPool, 'claim' | 'released'> | undefined;
}

/** What a create needs of its image: the reference, the preset's environment, and how to make sure it is there. */
export interface SandboxImage {
  ref: string;
  env?: Record<string, string> | undefined;
  ensure: () => Promise<void>;
  /** False when the caller asked for a fresh pull (pull_policy `always`): a pooled container's image may be older. */
  poolable?: boolean | undefined;
}

const MIB = 1024 * 1024;

export class SandboxManager {
  readonly files: SandboxFiles;
  private readonly agent: AgentFiles;
  private readonly usage: SandboxUsageReader;
  /** Execs under way per sandbox: a sandbox busy with a long exec is not idle. */
  private readonly busy = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: SandboxDeps) {
    this.files = new SandboxFiles(deps.runtime, deps.settings);
    this.agent = deps.agent ?? new AgentFiles(deps.settings.agentBinary);
    this.usage = new SandboxUsageReader(deps.runtime, deps.log);
  }

  /**
   * After a restart (and before run reconciliation): records whose time is up, that were still being created, or whose
   * container is no longer running are dropped (their containers, if any, are orphans run
   * reconciliation removes); answers the ids of the live sandboxes it must keep.
   */
  async reconcile(): Promise<Set<string>> {
    // Any kind: a sandbox made from a pooled container keeps the kind `pool` it was born with.
    const running = new Map(
      (await this.deps.runtime.list(ownedLabels(this.deps.instance)))
        .filter((c) => c.state === 'running' && c.labels[LABEL_SANDBOX_ID])
        .map((c) => [c.labels[LABEL_SANDBOX_ID]!, c.id]),
    );
    const live = new Set<string>();
    for (const sandbox of this.deps.store.list()) {
      const ok = sandbox.state === 'running' && running.get(sandbox.id) === sandbox.containerId && !this.overdue(sandbox, new Date());
      if (ok) live.add(sandbox.id);
      else this.deps.store.delete(sandbox.id);
    }
    return live;
  }

  /**
   * An exec under way when the gateway stopped (run reconciliation): its processes are
   * killed by its marker, in its sandbox if that is still live; the sandbox stays.
   */
  async endInterruptedExec(runId: string, containerId: string): Promise<void> {
    const sandbox = this.deps.store.list().find((s) => s.state === 'running' && s.containerId === containerId);
    if (!sandbox) return;
    await killExec({ runtime: this.deps.runtime, log: this.deps.log }, { containerId, user: this.deps.user, logContext: { sandbox: sandbox.id } }, runId);
  }

  startSweep(): void {
    this.timer ??= setInterval(() => void this.sweep(), this.deps.settings.sweepIntervalSeconds * 1000).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Deletes every sandbox past its TTL, or idle past its idle timeout with no exec under way. */
  async sweep(now = new Date()): Promise<string[]> {
    const removed: string[] = [];
    for (const sandbox of this.deps.store.list()) {
      if (sandbox.state !== 'running' || !this.overdue(sandbox, now)) continue;
      this.deps.log.info({ sandbox: sandbox.id, owner: sandbox.owner, expiresAt: sandbox.expiresAt }, 'deleting an expired or idle sandbox');
      await this.remove(sandbox).then(
        () => removed.push(sandbox.id),
        (err) => this.deps.log.warn({ sandbox: sandbox.id, err: String(err) }, 'deleting a sandbox failed; the next sweep retries'),
      );
    }
    return removed;
  }

  async create(input: CreateSandboxInput, caller: Caller, image: SandboxImage): Promise<SandboxRecord> {
    requireCapability(this.deps.runtime, 'exec');
    const { settings } = this.deps;
    const limits = resolveLimits({ memory_limit: input.memory_limit, cpu_limit: input.cpu_limit, pids_limit: input.pids_limit, network_mode: input.network_mode }, caller.policy);
    const ttl = input.ttl_seconds ?? settings.ttlDefaultSeconds;
    if (ttl > settings.ttlMaxSeconds) throw policyDenied('ttl_seconds', `ttl_seconds exceeds the server's cap of ${settings.ttlMaxSeconds} seconds`);
    const idle = input.idle_timeout_seconds ?? Math.min(settings.idleDefaultSeconds, ttl);
    if (idle > settings.ttlMaxSeconds) throw policyDenied('idle_timeout_seconds', `idle_timeout_seconds exceeds the server's cap of ${settings.ttlMaxSeconds} seconds`);
    const workingDir = workspacePath(input.working_dir ?? '.', 'working_dir');
    // Read before anything is admitted: a missing agent binary fails the create cleanly.
    await this.agent.files();
    const now = new Date();
    const sandbox: StoredSandbox = {
      id: randomUUID(),
      owner: caller.name,
      state: 'creating',
      image: image.ref,
      containerId: null,
      createdAt: now,
      lastActivityAt: now,
      expiresAt: new Date(now.getTime() + ttl * 1000),
      idleTimeoutSeconds: idle,
      memoryBytes: limits.memoryBytes,
      workingDir,
      labels: input.labels ?? {},
    };
    this.deps.store.insertWithin(sandbox, { maxCount: settings.maxPerCaller, maxMemoryBytes: settings.memoryPerCallerBytes }, (what, used) => {
      if (what === 'count') {
        throw new SlipwayError('SLIPWAY_ERR_RATE_LIMITED', `this caller already has ${used.count} sandboxes, its limit of ${settings.maxPerCaller}; delete one first`, {
          retryAfterSeconds: 60,
        });
      }
      throw policyDenied('memory_limit', `this caller's sandboxes would hold more than ${Math.round(settings.memoryPerCallerBytes / MIB)}m of memory in all (${Math.round(used.memoryBytes / MIB)}m in use)`);
    });
    const env = { ...image.env, ...input.environment };
    let claimed: ClaimedContainer | undefined;
    try {
      // The working directory is the record's, applied per exec: it does not keep a create from the pool; the environment is the container's, so it must match.
      claimed = image.poolable === false ? undefined : await this.deps.pool?.claim(image.ref, { env, limits, runtime: caller.policy.runtime });
      if (claimed) {
        // The pooled container was born with its sandbox id: the admitted record takes it.
        this.deps.store.rekey(sandbox.id, claimed.sandboxId);
        sandbox.id = claimed.sandboxId;
        this.deps.store.markRunning(sandbox.id, claimed.containerId);
      } else {
        await image.ensure();
        const spec = await this.containerSpec({ sandboxId: sandbox.id, image: image.ref, env, labels: this.labels(sandbox), limits, runtime: caller.policy.runtime });
        this.deps.store.markRunning(sandbox.id, await this.deps.runtime.startSandbox(spec));
      }
    } catch (err) {
      this.deps.store.delete(sandbox.id);
      await claimed?.discard();
      throw err;
    }
    return toRecord(this.deps.store.get(sandbox.id)!);
  }

  /** The container of a sandbox: one recipe for a cold create and a pooled container (lib/sandboxes/warm-pool.ts). */
  async containerSpec(c: { sandboxId: string; image: string; env: Record<string, string>; labels: Record<string, string>; limits: ResolvedLimits; runtime?: string | undefined }): Promise<SandboxSpec> {
    return {
      sandboxId: c.sandboxId,
      image: c.image,
      env: c.env,
      workingDir: WORKSPACE,
      user: this.deps.user,
      labels: c.labels,
      limits: c.limits,
      runtime: c.runtime,
      keepAlive: KEEP_ALIVE,
      keepAliveUser: this.deps.settings.keepAliveUser,
      // tmpfs pages count against the memory limit: at most half of it, so a full workspace leaves room to work.
      // Executable: an agent builds and runs binaries and installs packages with native libraries there
      // (noexec would stop only those, never an interpreter); nosuid and nodev stay.
      workspace: { dir: WORKSPACE, sizeBytes: Math.min(this.deps.settings.workspaceBytes, Math.floor(c.limits.memoryBytes / 2)), exec: true },
      agent: { dir: AGENT_DIR, files: await this.agent.files() },
    };
  }

  list(caller: Caller): SandboxRecord[] {
    return this.deps.store.list(caller.seesAll ? undefined : caller.name).map(toRecord);
  }

  get(id: string, caller: Caller): SandboxRecord {
    return toRecord(this.owned(id, caller));
  }

  /** The record and the sandbox's CPU and memory now (./sandbox-usage.ts: measured on a get, kept briefly). */
  async getWithUsage(id: string, caller: Caller): Promise<SandboxDetails> {
    const sandbox = this.owned(id, caller);
    return { ...toRecord(sandbox), ...(await this.usage.read(sandbox.state === 'running' ? sandbox.containerId : null)) };
  }

  async delete(id: string, caller: Caller): Promise<{ sandbox_id: string; deleted: boolean }> {
    await this.remove(this.owned(id, caller));
    return { sandbox_id: id, deleted: true };
  }

  extendTtl(input: ExtendTtlInput, caller: Caller): SandboxRecord {
    const sandbox = this.owned(input.sandbox_id, caller);
    const cap = this.deps.settings.ttlMaxSeconds;
    if (input.ttl_seconds > cap) throw policyDenied('ttl_seconds', `ttl_seconds exceeds the server's cap of ${cap} seconds`);
    this.deps.store.setExpiry(sandbox.id, new Date(Date.now() + input.ttl_seconds * 1000));
    return this.get(sandbox.id, caller);
  }

  /** The run plan of an exec (lib/sandboxes/sandbox-exec.ts); the run manager starts it. */
  execPlan(input: SandboxExecInput, caller: Caller): RunPlan {
    const sandbox = this.running(input.sandbox_id, caller);
    const argv = toArgv(input.command, 'command');
    if (!argv || argv.length === 0) throw invalidInput('command', 'command must name a program');
    const { timeoutMs } = resolveLimits({ timeout: input.timeout }, caller.policy);
    const workingDir = input.working_dir === undefined ? sandbox.workingDir : workspacePath(input.working_dir, 'working_dir');
    const { wait: _wait, idempotency_key: _key, ...request } = input;
    const touch = () => this.deps.store.touch(sandbox.id);
    const plan = execPlan(
      { runtime: this.deps.runtime, outputLimitBytes: this.deps.outputLimitBytes, touch, log: this.deps.log },
      { sandboxId: sandbox.id, containerId: sandbox.containerId!, image: sandbox.image, user: this.deps.user, memoryBytes: sandbox.memoryBytes },
      { argv, stdin: input.stdin, env: input.environment, workingDir, timeoutMs },
      request,
    );
    // Busy from the moment it is admitted to its end: the idle sweep leaves it alone.
    return {
      ...plan,
      execute: async (ctx) => {
        this.busy.set(sandbox.id, (this.busy.get(sandbox.id) ?? 0) + 1);
        try {
          return await plan.execute(ctx);
        } finally {
          const left = (this.busy.get(sandbox.id) ?? 1) - 1;
          if (left > 0) this.busy.set(sandbox.id, left);
          else this.busy.delete(sandbox.id);
        }
      },
    };
  }

  /** Where file operations go, for a running sandbox of the caller's; marks it used. */
  filesTarget(id: string, caller: Caller): FilesTarget {
    const sandbox = this.running(id, caller);
    this.deps.store.touch(sandbox.id);
    return { sandboxId: sandbox.id, containerId: sandbox.containerId!, user: this.deps.user };
  }

  private running(id: string, caller: Caller): StoredSandbox {
    const sandbox = this.owned(id, caller);
    if (sandbox.state !== 'running' || !sandbox.containerId) throw new SlipwayError('SLIPWAY_ERR_CONFLICT', `sandbox ${id} is still being created`, { field: 'sandbox_id' });
    return sandbox;
  }

  /** The caller's sandbox; someone else's is not found, exactly like one that never existed. */
  private owned(id: string, caller: Caller): StoredSandbox {
    const sandbox = this.deps.store.get(id);
    if (!sandbox || (!caller.seesAll && sandbox.owner !== caller.name)) {
      throw new SlipwayError('SLIPWAY_ERR_SANDBOX_NOT_FOUND', `no sandbox ${id}`, { field: 'sandbox_id' });
    }
    return sandbox;
  }

  private overdue(sandbox: StoredSandbox, now: Date): boolean {
    if (now >= sandbox.expiresAt) return true;
    return !this.busy.has(sandbox.id) && now.getTime() >= sandbox.lastActivityAt.getTime() + sandbox.idleTimeoutSeconds * 1000;
  }

  /** Container and storage first, then the record: a failed removal keeps the record, so the sweep retries. */
  private async remove(sandbox: StoredSandbox): Promise<void> {
    await this.deps.runtime.removeSandbox({ ...ownedLabels(this.deps.instance), [LABEL_SANDBOX_ID]: sandbox.id });
    this.deps.store.delete(sandbox.id);
    this.busy.delete(sandbox.id);
    this.deps.pool?.released(sandbox.id);
  }

  private labels(sandbox: StoredSandbox): Record<string, string> {
    return sandboxLabels(this.deps.instance, sandbox.id, sandbox.owner);
  }
}

function toRecord(s: StoredSandbox): SandboxRecord {
  return {
    sandbox_id: s.id,
    state: s.state,
    owner: s.owner,
    image: s.image,
    container_id: s.containerId,
    created_at: s.createdAt.toISOString(),
    last_activity_at: s.lastActivityAt.toISOString(),
    expires_at: s.expiresAt.toISOString(),
    idle_expires_at: new Date(Math.min(s.expiresAt.getTime(), s.lastActivityAt.getTime() + s.idleTimeoutSeconds * 1000)).toISOString(),
    idle_timeout_seconds: s.idleTimeoutSeconds,
    memory_bytes: s.memoryBytes,
    workspace: WORKSPACE,
    working_dir: s.workingDir,
    labels: s.labels,
  };
}
