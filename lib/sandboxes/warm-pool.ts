/**
 * The warm pool (SLIPWAY_POOL): sandbox containers created, started, hardened and
 * labelled ahead of demand, exactly as a sandbox with the server's default limits would
 * be (the same spec, through runtime.startSandbox), so that a create can take one instead
 * of waiting for a cold start.
 *
 * The one promise: a pooled container serves ONE caller and ONE use. `claim` takes it out
 * of the pool synchronously, before any await, so two claims can never get the same one;
 * nothing ever puts a container back. Whoever claimed it owns it until `discard` (a
 * sandbox's delete removes it through the sandbox's labels and calls `released`).
 *
 * Each pooled container is born with the sandbox id it will carry (labels cannot change
 * after create): kind `pool`, `io.slipway.pool=<key>`, no owner label. The sandbox record
 * in SQLite is the truth of who owns a claimed one. At start, pooled containers of an
 * earlier process that no live sandbox claimed are orphans to run reconciliation and are
 * removed (never adopted: nobody can vouch for what happened to them while no one
 * watched); the pool fills only after that, and on shutdown it is drained.
 *
 * Replenishing: one fill loop per entry, serial, started at start and after every claim
 * or replacement; a failed create waits (1 s, doubling, up to a minute) before the next.
 * Idle containers are checked every `checkIntervalSeconds` and on claim (inspect): one
 * that is not running is removed and replaced.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { LABEL_KIND, LABEL_SANDBOX_ID, ownedLabels, poolLabels } from '../labels.js';
import type { Metrics } from '../metrics.js';
import type { ResolvedLimits } from '../policy.js';
import type { ContainerRuntime, SandboxSpec } from '../runtime/container-runtime.js';
import type { PoolEntrySettings, PoolSettings } from './pool-settings.js';

/**
 * A container taken from the pool: yours alone, for one use. It is a sandbox container
 * (lib/sandboxes/agent.ts): running its keep-alive, the agent busybox read-only at
 * /.slipway, a /workspace tmpfs owned by the payload user, hardened with the server's
 * default limits. Run in it with `runtime.exec` (per-exec env and working directory), then
 * `discard` it: whatever it ran must never meet another caller.
 */
export interface ClaimedContainer {
  containerId: string;
  /** Assigned at creation: the container's `io.slipway.sandbox-id` (and run id) label and its name's suffix. */
  sandboxId: string;
  image: string;
  /** The SLIPWAY_POOL key it came from. */
  poolKey: string;
  /** Removes the container and its storage (idempotent). Call it when done; a claimed container is never reused. */
  discard(): Promise<void>;
}

/** What a claim needs to match: a pooled container is the same container a cold create would make, or it is not used. */
export interface ClaimRequest {
  /** The container's whole environment: a preset's, plus a sandbox caller's `environment`; default none. (A run can put its own environment on each exec instead, and claim with the preset's alone.) */
  env?: Record<string, string> | undefined;
  /** The resolved limits; default the server's defaults (the pool's own). */
  limits?: ResolvedLimits | undefined;
  /** The OCI runtime the caller's policy sets (`runsc`); default the server's. */
  runtime?: string | undefined;
}

/** One entry's state, as /readyz, metrics, get_server_info and the dashboard show it. */
export interface PoolEntryState {
  key: string;
  image: string;
  size: number;
  idle: number;
  /** Claimed by this process and not yet discarded. */
  claimed: number;
  /** Being created right now. */
  replenishing: number;
  /** Claims that found this entry empty (and fell back to a cold create). */
  misses: number;
  /** Creates failed in a row (the entry is backing off); 0 once one works. The reasons are logged, not shown. */
  failures: number;
}

export interface WarmPoolDeps {
  runtime: ContainerRuntime;
  instance: string;
  settings: PoolSettings;
  /** The server's default limits and runtime: every pooled container has them. */
  limits: ResolvedLimits;
  runtimeName?: string | undefined;
  /** The spec of a sandbox container (SandboxManager.containerSpec): one recipe for cold and pooled. */
  spec: (sandboxId: string, entry: PoolEntrySettings, labels: Record<string, string>) => Promise<SandboxSpec>;
  /** Makes sure the image is there (pulled if missing); `signal` aborts a pull when the pool drains. */
  ensureImage: (ref: string, signal: AbortSignal) => Promise<void>;
  metrics: Metrics;
  log: Logger;
  /** Back-off after a failed create: first wait and longest wait. */
  backoff?: { firstMs: number; maxMs: number } | undefined;
  /** How a back-off waits (resolves early when `signal` aborts); tests take the clock in hand. */
  wait?: ((ms: number, signal: AbortSignal) => Promise<void>) | undefined;
}

interface Pooled {
  containerId: string;
  sandboxId: string;
}

interface Entry {
  settings: PoolEntrySettings;
  idle: Pooled[];
  creating: number;
  misses: number;
  failures: number;
  loop: Promise<void> | undefined;
}

const DEFAULT_BACKOFF = { firstMs: 1000, maxMs: 60_000 };
/** The limits that shape the container (the timeout is per run or exec, not the container's). */
const CONTAINER_LIMITS = ['memoryBytes', 'nanoCpus', 'pidsLimit', 'networkMode', 'readOnlyRootfs'] as const;

export class WarmPool {
  private readonly entries: Entry[];
  /** Claimed containers not yet discarded, by sandbox id, with the entry they came from. */
  private readonly claimed = new Map<string, Entry>();
  /** Sandbox ids of containers being created (not yet idle). */
  private readonly creatingIds = new Set<string>();
  private readonly stopping = new AbortController();
  private started = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: WarmPoolDeps) {
    this.entries = deps.settings.entries.map((settings) => ({ settings, idle: [], creating: 0, misses: 0, failures: 0, loop: undefined }));
    deps.metrics.observe('pool_idle', () => this.entries.reduce((n, e) => n + e.idle.length, 0));
    deps.metrics.observe('pool_claimed', () => this.claimed.size);
    deps.metrics.observe('pool_replenishing', () => this.entries.reduce((n, e) => n + e.creating, 0));
  }

  /** Fills every entry and starts the checks. Call after run reconciliation removed an earlier process's leftovers. */
  start(): void {
    if (this.started || this.entries.length === 0 || this.stopping.signal.aborted) return;
    if (!this.deps.runtime.capabilities.exec) {
      this.deps.log.warn({ backend: this.deps.runtime.backend }, 'SLIPWAY_POOL is ignored: this backend has no sandboxes');
      return;
    }
    this.started = true;
    for (const entry of this.entries) this.fill(entry);
    this.timer = setInterval(() => void this.check(), this.deps.settings.checkIntervalSeconds * 1000).unref();
  }

  /**
   * A pooled container of `image` matching `request`, taken out of the pool for good; or
   * undefined: the image is not pooled, the request differs from the pooled containers
   * (environment, limits, runtime), or the entry is empty right now (counted as a miss).
   * The caller then creates one itself. Every claim starts a refill in the background.
   */
  async claim(image: string, request: ClaimRequest = {}): Promise<ClaimedContainer | undefined> {
    const entry = this.entries.find((e) => e.settings.image === image && this.matches(e.settings, request));
    if (!entry || this.stopping.signal.aborted) return undefined;
    for (;;) {
      // Synchronous: once shifted, no other claim can see it.
      const pooled = entry.idle.shift();
      this.fill(entry);
      if (!pooled) {
        entry.misses++;
        this.deps.metrics.poolMiss();
        return undefined;
      }
      const running = await this.deps.runtime.inspect(pooled.containerId).then((d) => d.running, () => false);
      if (running) {
        this.claimed.set(pooled.sandboxId, entry);
        return this.handle(entry, pooled);
      }
      this.deps.log.warn({ container: pooled.containerId, pool: entry.settings.key }, 'a pooled container was not running at claim; replacing it');
      void this.remove(pooled.sandboxId);
    }
  }

  /** A claimed container's sandbox was removed by its owner (lib/sandboxes/sandbox-manager.ts). */
  released(sandboxId: string): void {
    this.claimed.delete(sandboxId);
  }

  /** Sandbox ids of the containers this process pooled and has not discarded (idle, being created, claimed): reconciliation keeps them. */
  ids(): Set<string> {
    return new Set([...this.entries.flatMap((e) => e.idle.map((p) => p.sandboxId)), ...this.creatingIds, ...this.claimed.keys()]);
  }

  state(): PoolEntryState[] {
    return this.entries.map((e) => ({
      key: e.settings.key,
      image: e.settings.image,
      size: e.settings.size,
      idle: e.idle.length,
      claimed: [...this.claimed.values()].filter((from) => from === e).length,
      replenishing: e.creating,
      misses: e.misses,
      failures: e.failures,
    }));
  }

  /** Stops refilling, waits for creates under way, and removes every idle container. Claimed ones are their owners'. */
  async drain(): Promise<void> {
    this.stopping.abort();
    clearInterval(this.timer);
    await Promise.all(this.entries.map((e) => e.loop));
    const idle = this.entries.flatMap((e) => e.idle.splice(0));
    await Promise.all(idle.map((p) => this.remove(p.sandboxId)));
  }

  /** Removes idle containers that stopped or vanished, and refills. */
  async check(): Promise<void> {
    const before = new Set(this.entries.flatMap((e) => e.idle.map((p) => p.containerId)));
    if (before.size === 0) return;
    let listed;
    try {
      listed = await this.deps.runtime.list({ ...ownedLabels(this.deps.instance), [LABEL_KIND]: 'pool' });
    } catch (err) {
      this.deps.log.warn({ err: String(err) }, 'checking the warm pool failed; the next check retries');
      return;
    }
    const running = new Set(listed.filter((c) => c.state === 'running').map((c) => c.id));
    for (const entry of this.entries) {
      // Only containers idle before the listing: one created meanwhile is not in it, and not broken.
      const broken = entry.idle.filter((p) => before.has(p.containerId) && !running.has(p.containerId));
      if (broken.length === 0) continue;
      entry.idle = entry.idle.filter((p) => !broken.includes(p));
      this.deps.log.warn({ pool: entry.settings.key, containers: broken.map((p) => p.containerId) }, 'pooled containers stopped or vanished; replacing them');
      await Promise.all(broken.map((p) => this.remove(p.sandboxId)));
      this.fill(entry);
    }
  }

  private handle(entry: Entry, pooled: Pooled): ClaimedContainer {
    let discarded: Promise<void> | undefined;
    return {
      containerId: pooled.containerId,
      sandboxId: pooled.sandboxId,
      image: entry.settings.image,
      poolKey: entry.settings.key,
      discard: () => {
        discarded ??= this.remove(pooled.sandboxId).finally(() => this.released(pooled.sandboxId));
        return discarded;
      },
    };
  }

  private matches(entry: PoolEntrySettings, request: ClaimRequest): boolean {
    const env = request.env ?? {};
    const limits = request.limits ?? this.deps.limits;
    return (
      sameRecord(entry.env, env) &&
      CONTAINER_LIMITS.every((k) => limits[k] === this.deps.limits[k]) &&
      (request.runtime ?? this.deps.runtimeName) === this.deps.runtimeName
    );
  }

  /** Starts the entry's fill loop unless one runs: one create at a time per entry, until it holds `size`. */
  private fill(entry: Entry): void {
    if (!this.started || entry.loop || this.stopping.signal.aborted) return;
    entry.loop = this.fillLoop(entry).finally(() => (entry.loop = undefined));
  }

  private async fillLoop(entry: Entry): Promise<void> {
    const backoff = this.deps.backoff ?? DEFAULT_BACKOFF;
    while (!this.stopping.signal.aborted && entry.idle.length < entry.settings.size) {
      entry.creating++;
      try {
        const pooled = await this.create(entry.settings);
        entry.failures = 0;
        if (this.stopping.signal.aborted) await this.remove(pooled.sandboxId);
        else entry.idle.push(pooled);
      } catch (err) {
        entry.failures++;
        const waitMs = Math.min(backoff.maxMs, backoff.firstMs * 2 ** (entry.failures - 1));
        this.deps.log.warn({ pool: entry.settings.key, err: String(err), retryInMs: waitMs }, 'creating a pooled container failed');
        await (this.deps.wait ?? abortableSleep)(waitMs, this.stopping.signal);
      } finally {
        entry.creating--;
      }
    }
  }

  private async create(entry: PoolEntrySettings): Promise<Pooled> {
    const sandboxId = randomUUID();
    await this.deps.ensureImage(entry.image, this.stopping.signal);
    const spec = await this.deps.spec(sandboxId, entry, poolLabels(this.deps.instance, sandboxId, entry.key));
    this.creatingIds.add(sandboxId);
    try {
      return { sandboxId, containerId: await this.deps.runtime.startSandbox(spec) };
    } finally {
      this.creatingIds.delete(sandboxId);
    }
  }

  /** Container and storage of one pooled sandbox id; best effort, logged (run reconciliation removes what is left at the next start). */
  private async remove(sandboxId: string): Promise<void> {
    await this.deps.runtime
      .removeSandbox({ ...ownedLabels(this.deps.instance), [LABEL_SANDBOX_ID]: sandboxId })
      .catch((err) => this.deps.log.warn({ sandbox: sandboxId, err: String(err) }, 'removing a pooled container failed'));
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal }).catch(() => undefined);
}

function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/** /readyz `details`: one line per entry (`pool python`: `idle 2/2, claimed 1, replenishing 0, misses 0`); undefined without a pool. */
export function poolReadiness(state: PoolEntryState[]): Record<string, string> | undefined {
  if (state.length === 0) return undefined;
  return Object.fromEntries(
    state.map((e) => [
      `pool ${e.key}`,
      `idle ${e.idle}/${e.size}, claimed ${e.claimed}, replenishing ${e.replenishing}, misses ${e.misses}${e.failures ? `, creates failing (${e.failures} in a row)` : ''}`,
    ]),
  );
}
