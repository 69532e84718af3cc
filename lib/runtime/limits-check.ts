/**
 * Reading the limits back. An engine can accept a hardened spec and quietly drop parts
 * of it (rootless Podman on cgroup v1 ignores memory, CPU and pids limits; a kernel
 * without a controller makes Docker warn and carry on), and a run then goes unbounded
 * while the caller is told otherwise. So after creating a container (or a Swarm service),
 * a backend maps what it asked for and what the engine reports back into this neutral
 * shape, and the run is refused unless every limit asked for is there.
 *
 * Backend-neutral: each backend translates its engine's words (HostConfig, a service's
 * TaskTemplate) into EngineLimits; the comparison and the refusal live here, once.
 */
import { SlipwayError } from '../errors.js';

export interface Ulimit {
  soft: number;
  hard: number;
}

/**
 * Limits as one engine object states them. A backend sets only the fields it asks its
 * engine for; a field left out of the requested side is not checked.
 */
export interface EngineLimits {
  memoryBytes?: number | undefined;
  memorySwapBytes?: number | undefined;
  nanoCpus?: number | undefined;
  pidsLimit?: number | undefined;
  readOnlyRootfs?: boolean | undefined;
  allCapabilitiesDropped?: boolean | undefined;
  noNewPrivileges?: boolean | undefined;
  networkMode?: string | undefined;
  /** By lower-case name without the `RLIMIT_` prefix (`nofile`, `nproc`). */
  ulimits?: Record<string, Ulimit> | undefined;
}

/** The names callers and operators read in the refusal. */
const LIMIT_NAMES: Record<keyof EngineLimits, string> = {
  memoryBytes: 'memory',
  memorySwapBytes: 'memory+swap',
  nanoCpus: 'cpu',
  pidsLimit: 'pids',
  readOnlyRootfs: 'read-only root filesystem',
  allCapabilitiesDropped: 'all capabilities dropped',
  noNewPrivileges: 'no-new-privileges',
  networkMode: 'network',
  ulimits: 'ulimit',
};

export interface DroppedLimit {
  /** The limit's name (`memory`, `ulimit nofile`). */
  limit: string;
  requested: string;
  reported: string;
}

const show = (value: unknown): string => (value === undefined || value === null ? 'nothing' : typeof value === 'object' ? JSON.stringify(value) : String(value));

/** Every requested limit the engine does not report as asked, in a stable order. */
export function droppedLimits(requested: EngineLimits, reported: EngineLimits): DroppedLimit[] {
  const dropped: DroppedLimit[] = [];
  for (const key of Object.keys(LIMIT_NAMES) as (keyof EngineLimits)[]) {
    const want = requested[key];
    if (want === undefined) continue;
    if (key === 'ulimits') {
      const have = reported.ulimits ?? {};
      for (const [name, limit] of Object.entries(want as Record<string, Ulimit>)) {
        const got = have[name];
        if (got?.soft !== limit.soft || got.hard !== limit.hard) dropped.push({ limit: `ulimit ${name}`, requested: show(limit), reported: show(got) });
      }
      continue;
    }
    const got = reported[key];
    if (got !== want) dropped.push({ limit: LIMIT_NAMES[key], requested: show(want), reported: show(got) });
  }
  return dropped;
}

/** The refusal: a run whose limits the engine dropped never starts. */
export function engineLimitsError(backend: string, dropped: DroppedLimit[]): SlipwayError {
  const list = dropped.map((d) => `${d.limit} (asked ${d.requested}, the engine reports ${d.reported})`).join(', ');
  return new SlipwayError(
    'SLIPWAY_ERR_ENGINE_LIMITS',
    `the ${backend} engine did not apply ${dropped.length === 1 ? 'a limit' : 'limits'} this run requires, so it was not started: ${list}`,
  );
}

/** Throws SLIPWAY_ERR_ENGINE_LIMITS naming each dropped limit; returns when all are there. */
export function assertLimitsKept(backend: string, requested: EngineLimits, reported: EngineLimits): void {
  const dropped = droppedLimits(requested, reported);
  if (dropped.length > 0) throw engineLimitsError(backend, dropped);
}

/** How long a verdict is trusted: an engine reconfigured behind the gateway's back is noticed within this. */
const VERDICT_TTL_MS = 5 * 60_000;
/** Distinct spec shapes remembered; a run's limits come from a small set of presets and policies. */
const MAX_SHAPES = 256;

/**
 * Reading back costs an engine round trip per run (~1–2 ms on a local socket). An engine
 * that kept one shape of limits keeps it for the next container of that shape, so a
 * passing verdict is remembered per shape (and per OCI runtime) for a while; a failing
 * one is never remembered, so every such run is checked and refused. One per runtime
 * instance, which is one engine connection.
 */
export class LimitsVerdicts {
  private readonly passed = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether a container of this shape needs reading back. */
  needsCheck(shape: string): boolean {
    const at = this.passed.get(shape);
    if (at === undefined) return true;
    if (this.now() - at < VERDICT_TTL_MS) return false;
    this.passed.delete(shape);
    return true;
  }

  /** Remembers that the engine kept every limit of this shape. */
  kept(shape: string): void {
    if (this.passed.size >= MAX_SHAPES) this.passed.delete(this.passed.keys().next().value!);
    this.passed.set(shape, this.now());
  }
}

/** A stable key for a shape of requested limits (plus anything else that changes the engine's answer). */
export function limitsShape(requested: EngineLimits, extra = ''): string {
  const ordered = Object.fromEntries(Object.entries(requested).sort(([a], [b]) => a.localeCompare(b)));
  return `${extra}|${JSON.stringify(ordered)}`;
}
