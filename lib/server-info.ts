/**
 * What a caller may do here, as one answer (get_server_info): the policy its requests
 * are held to after its token's overrides, the server's own bounds, and whether the
 * engine answers. A dashboard shows it; a client can read its caps before asking.
 */
import type { Caller } from './caller.js';
import type { RuntimeVersion } from './runtime/container-runtime.js';
import type { ServerInfo } from '../schemas/server-info.js';
import type { PoolEntryState } from './sandboxes/warm-pool.js';

export interface ServerBounds {
  instance: string;
  outputCapBytes: number;
  runs: { maxConcurrent: number; maxQueued: number; maxRunningPerCaller: number; maxQueuedPerCaller: number; retentionSeconds: number };
}

/** The engine's answer to a version call: its version, or why it did not answer. */
export type EngineState = { backend: string; version: RuntimeVersion } | { backend: string; error: string };

const limits = (l: Caller['policy']['defaults']) => ({ memory_bytes: l.memoryBytes, cpus: l.cpus, pids_limit: l.pidsLimit, timeout_seconds: l.timeoutSeconds });

export function describeServer(caller: Caller, bounds: ServerBounds, engine: EngineState, owners: () => string[], pool: PoolEntryState[] = []): ServerInfo {
  const p = caller.policy;
  const reached = 'version' in engine;
  return {
    caller: { name: caller.name, sees_all: caller.seesAll },
    policy: {
      defaults: limits(p.defaults),
      caps: limits(p.caps),
      network_modes: p.networkModes,
      allow_writable_rootfs: p.allowWritableRootfs,
      image_allow: p.imageAllow,
      manage_all_containers: p.manageAllContainers,
      allow_builds: p.allowBuilds,
      build_network: p.buildNetwork,
      runtime: p.runtime ?? null,
      max_concurrent_runs: p.maxConcurrentRuns ?? null,
    },
    server: {
      instance: bounds.instance,
      max_concurrent_runs: bounds.runs.maxConcurrent,
      max_queued_runs: bounds.runs.maxQueued,
      max_running_per_caller: bounds.runs.maxRunningPerCaller,
      max_queued_per_caller: bounds.runs.maxQueuedPerCaller,
      output_cap_bytes: bounds.outputCapBytes,
      run_retention_seconds: bounds.runs.retentionSeconds,
    },
    engine: {
      backend: engine.backend,
      reachable: reached,
      version: reached ? engine.version.version : null,
      error: reached ? null : engine.error,
    },
    pool: pool.map(({ failures: _failures, ...entry }) => entry),
    // Other callers' names only to one who may see their runs anyway.
    ...(caller.seesAll ? { owners: owners() } : {}),
  };
}
