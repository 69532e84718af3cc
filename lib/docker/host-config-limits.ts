/**
 * A Docker-API HostConfig in the neutral terms of lib/runtime/limits-check.ts. The same
 * mapping reads the create body Slipway sends (what it asked for) and the engine's
 * inspect (what it kept), so the two compare like with like. It absorbs how Docker and
 * Podman word the same setting differently.
 */
import type Docker from 'dockerode';
import type { EngineLimits, Ulimit } from '../runtime/limits-check.js';

/**
 * Podman reports `CapDrop: ["ALL"]` as the list of capabilities it would otherwise have
 * granted. Those are the engine's defaults, which vary by engine and version; this is
 * the part every default set shares (Docker's 14, Podman 4's 11), so a list covering it
 * with nothing added back means none of the defaults is left.
 */
const DEFAULT_CAPABILITIES_CORE = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'];

const capName = (cap: string): string => cap.toUpperCase().replace(/^CAP_/, '');

function allCapabilitiesDropped(hostConfig: Docker.HostConfig): boolean {
  const dropped = new Set((hostConfig.CapDrop ?? []).map(capName));
  if ((hostConfig.CapAdd ?? []).length > 0) return false;
  return dropped.has('ALL') || DEFAULT_CAPABILITIES_CORE.every((cap) => dropped.has(cap));
}

/** Docker writes `no-new-privileges:true`, Podman `no-new-privileges`; `=` is accepted by both. */
function noNewPrivileges(securityOpt: string[] | undefined): boolean {
  return (securityOpt ?? []).some((opt) => /^no-new-privileges([:=]true)?$/.test(opt));
}

/** Podman reports ulimit names as `RLIMIT_NOFILE`. */
function ulimits(list: Docker.HostConfig['Ulimits']): Record<string, Ulimit> {
  const out: Record<string, Ulimit> = {};
  for (const u of list ?? []) if (u.Name) out[u.Name.toLowerCase().replace(/^rlimit_/, '')] = { soft: u.Soft ?? 0, hard: u.Hard ?? 0 };
  return out;
}

/** CPU as NanoCpus, or as the quota over the period when that is how the engine kept it. */
function nanoCpus(hostConfig: Docker.HostConfig): number {
  if (hostConfig.NanoCpus) return hostConfig.NanoCpus;
  if (hostConfig.CpuQuota && hostConfig.CpuPeriod) return Math.round((hostConfig.CpuQuota / hostConfig.CpuPeriod) * 1e9);
  return 0;
}

export function hostConfigLimits(hostConfig: Docker.HostConfig): EngineLimits {
  return {
    memoryBytes: hostConfig.Memory ?? 0,
    memorySwapBytes: hostConfig.MemorySwap ?? 0,
    nanoCpus: nanoCpus(hostConfig),
    pidsLimit: hostConfig.PidsLimit ?? 0,
    readOnlyRootfs: hostConfig.ReadonlyRootfs ?? false,
    allCapabilitiesDropped: allCapabilitiesDropped(hostConfig),
    noNewPrivileges: noNewPrivileges(hostConfig.SecurityOpt),
    networkMode: hostConfig.NetworkMode ?? '',
    ulimits: ulimits(hostConfig.Ulimits),
  };
}
