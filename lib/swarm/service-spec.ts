/**
 * The Engine API service body of one run: a `ReplicatedJob` (one task, run once, never
 * restarted) with every hardening setting Swarm takes per service, written by Slipway from
 * validated values only, as lib/docker/container-spec.ts does for a container.
 *
 * What Swarm has NO per-service field for, and must come from every node's daemon.json
 * (checked where the manager shows it, reported in /readyz; docs/swarm.md):
 * - `"no-new-privileges": true` (API 1.41 has no per-service security option for it);
 * - `"bridge": "none"`: a service with no networks then gets only `lo`; with a default
 *   bridge, the engine would attach one to the task's container.
 */
import type { ResolvedLimits } from '../policy.js';
import type { RunSpec } from '../runtime/container-runtime.js';
import type { ServiceSpec } from './swarm-client.js';

/** A payload file as a Swarm config mounted read-only at `target`. */
export interface ConfigMount {
  id: string;
  name: string;
  target: string;
  mode: number;
}

/** /tmp as in the Docker backend: the run's one writable place, bounded. */
const TMP_BYTES = 64 * 1024 * 1024;

const ULIMITS = [
  { Name: 'nofile', Soft: 4096, Hard: 4096 },
  { Name: 'nproc', Soft: 4096, Hard: 4096 },
  { Name: 'fsize', Soft: 1024 ** 3, Hard: 1024 ** 3 },
];

/** The resource limits as the engine stores them: what the read-back compares (./limits-readback.ts). */
export function serviceLimits(limits: ResolvedLimits): { NanoCPUs: number; MemoryBytes: number; Pids: number } {
  return { NanoCPUs: limits.nanoCpus, MemoryBytes: limits.memoryBytes, Pids: limits.pidsLimit };
}

export function buildServiceSpec(run: RunSpec, configs: ConfigMount[], stopGraceSeconds: number): ServiceSpec {
  const containerSpec: Record<string, unknown> = {
    Image: run.image,
    Env: Object.entries(run.env ?? {}).map(([k, v]) => `${k}=${v}`),
    Labels: run.labels,
    ReadOnly: run.limits.readOnlyRootfs,
    CapabilityDrop: ['ALL'],
    CapabilityAdd: [],
    Init: true,
    Ulimits: ULIMITS,
    StopSignal: 'SIGTERM',
    StopGracePeriod: stopGraceSeconds * 1e9,
    Mounts: [{ Type: 'tmpfs', Target: '/tmp', TmpfsOptions: { SizeBytes: TMP_BYTES, Mode: 0o1777 } }],
    Configs: configs.map((c) => ({ ConfigID: c.id, ConfigName: c.name, File: { Name: c.target, UID: '0', GID: '0', Mode: c.mode } })),
    TTY: false,
    OpenStdin: false,
  };
  // Docker's Entrypoint is the service's Command; Docker's Cmd is its Args.
  if (run.entrypoint) containerSpec.Command = run.entrypoint;
  if (run.cmd) containerSpec.Args = run.cmd;
  if (run.workingDir) containerSpec.Dir = run.workingDir;
  if (run.user) containerSpec.User = run.user;
  return {
    Name: `slipway-${run.runId}`,
    Labels: run.labels,
    TaskTemplate: {
      ContainerSpec: containerSpec,
      Resources: { Limits: serviceLimits(run.limits) },
      RestartPolicy: { Condition: 'none', MaxAttempts: 0 },
      // Spread over the nodes is Swarm's default; a caller's policy may narrow where.
      Placement: { Constraints: run.placement ?? [] },
      // No networks: with the nodes' `bridge: none`, the task has only `lo`.
      Networks: [],
      LogDriver: { Name: 'json-file', Options: { 'max-size': '10m', 'max-file': '1' } },
    },
    Mode: { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } },
    // No routing mesh (the test machines' kernels have no IPVS, and a run publishes nothing).
    EndpointSpec: { Mode: 'dnsrr' },
  } as unknown as ServiceSpec;
}
