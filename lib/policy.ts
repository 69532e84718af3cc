/**
 * What a caller may ask for. Inputs only ever tighten the server's hardened defaults;
 * anything looser than the server's caps is refused (403 naming the field), never
 * quietly clamped, so a caller always knows what actually ran.
 */
import { invalidInput, policyDenied } from './errors.js';
import { parseMemorySize } from './memory-size.js';
import { MIN_CPUS, MIN_TIMEOUT_SECONDS } from '../schemas/common.js';

export interface RunPolicy {
  defaults: { memoryBytes: number; cpus: number; pidsLimit: number; timeoutSeconds: number };
  caps: { memoryBytes: number; cpus: number; pidsLimit: number; timeoutSeconds: number };
  networkModes: string[];
  allowWritableRootfs: boolean;
}

export interface RequestedLimits {
  memory_limit?: string | undefined;
  cpu_limit?: number | undefined;
  pids_limit?: number | undefined;
  timeout?: number | undefined;
  network_mode?: string | undefined;
  read_only?: boolean | undefined;
}

export interface ResolvedLimits {
  memoryBytes: number;
  nanoCpus: number;
  pidsLimit: number;
  timeoutMs: number;
  networkMode: 'none' | 'bridge';
  readOnlyRootfs: boolean;
}

/** The engine refuses less than 6 MiB; say so before it does. */
const MIN_MEMORY_BYTES = 6 * 1024 * 1024;
const MIB = 1024 * 1024;

export function resolveLimits(req: RequestedLimits, policy: RunPolicy): ResolvedLimits {
  const { defaults, caps } = policy;

  const memoryBytes = req.memory_limit === undefined ? defaults.memoryBytes : parseMemorySize(req.memory_limit, 'memory_limit');
  if (memoryBytes < MIN_MEMORY_BYTES) throw invalidInput('memory_limit', 'memory_limit must be at least 6m');
  if (memoryBytes > caps.memoryBytes) {
    throw policyDenied('memory_limit', `memory_limit exceeds the server's cap of ${Math.floor(caps.memoryBytes / MIB)}m`);
  }

  // The schemas bound these too; checked again here because 0 or -1 would mean "unlimited" to the
  // engine, and so would a value that rounds to 0 when converted to its units.
  const cpus = req.cpu_limit ?? defaults.cpus;
  if (!(cpus >= MIN_CPUS)) throw invalidInput('cpu_limit', `cpu_limit must be at least ${MIN_CPUS} (the smallest CPU share the engine enforces)`);
  if (cpus > caps.cpus) throw policyDenied('cpu_limit', `cpu_limit exceeds the server's cap of ${caps.cpus} CPUs`);

  const pidsLimit = req.pids_limit ?? defaults.pidsLimit;
  if (!(pidsLimit >= 1)) throw invalidInput('pids_limit', 'pids_limit must be at least 1');
  if (pidsLimit > caps.pidsLimit) throw policyDenied('pids_limit', `pids_limit exceeds the server's cap of ${caps.pidsLimit}`);

  const timeoutSeconds = req.timeout ?? defaults.timeoutSeconds;
  if (!(timeoutSeconds >= MIN_TIMEOUT_SECONDS)) throw invalidInput('timeout', `timeout must be at least ${MIN_TIMEOUT_SECONDS} seconds`);
  if (timeoutSeconds > caps.timeoutSeconds) {
    throw policyDenied('timeout', `timeout exceeds the server's cap of ${caps.timeoutSeconds} seconds`);
  }

  const networkMode = req.network_mode ?? 'none';
  // `none` is always allowed: the policy lists what a caller may loosen to.
  if (networkMode !== 'none' && networkMode !== 'bridge') throw invalidInput('network_mode', 'network_mode must be none or bridge');
  if (networkMode !== 'none' && !policy.networkModes.includes(networkMode)) {
    throw policyDenied('network_mode', `network_mode ${networkMode} is not allowed by the server (allowed: ${policy.networkModes.join(', ')})`);
  }

  const readOnlyRootfs = req.read_only ?? true;
  if (!readOnlyRootfs && !policy.allowWritableRootfs) {
    throw policyDenied('read_only', 'a writable root filesystem is not allowed by the server');
  }

  return {
    memoryBytes,
    nanoCpus: Math.round(cpus * 1e9),
    pidsLimit,
    timeoutMs: Math.round(timeoutSeconds * 1000),
    networkMode,
    readOnlyRootfs,
  };
}
