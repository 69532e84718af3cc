/**
 * Builds the Engine API create body for a run. The gateway writes every field itself
 * from validated values: no caller-supplied HostConfig is ever passed through, so
 * binds, devices, privileged mode and host namespaces cannot reach the daemon.
 * The hardened defaults are SECURITY.md's table, one line each.
 */
import type { ContainerCreateOptions } from 'dockerode';
import type { ResolvedLimits } from '../policy.js';

export interface ContainerSpecInput {
  /** Container name: `slipway-<run id>`, so operators can tell runs apart in `docker ps`. */
  name?: string | undefined;
  image: string;
  cmd?: string[] | undefined;
  entrypoint?: string[] | undefined;
  env?: Record<string, string> | undefined;
  workingDir?: string | undefined;
  user?: string | undefined;
  labels: Record<string, string>;
  limits: ResolvedLimits;
  openStdin: boolean;
  stopGraceSeconds: number;
  runtime?: string | undefined;
  /** A Slipway-created, labelled volume mounted at `target` (payload files go in here). */
  volume?: { name: string; target: string } | undefined;
}

const TMPFS_OPTIONS = 'rw,nosuid,nodev,size=64m';

export function buildContainerSpec(input: ContainerSpecInput): ContainerCreateOptions {
  const { limits } = input;
  const spec: ContainerCreateOptions = {
    ...(input.name ? { name: input.name } : {}),
    Image: input.image,
    Env: Object.entries(input.env ?? {}).map(([k, v]) => `${k}=${v}`),
    Labels: input.labels,
    Tty: false,
    AttachStdout: true,
    AttachStderr: true,
    AttachStdin: input.openStdin,
    OpenStdin: input.openStdin,
    // Closing stdin after the caller's text is what lets `cat`-style programs finish.
    StdinOnce: input.openStdin,
    StopSignal: 'SIGTERM',
    StopTimeout: input.stopGraceSeconds,
    NetworkDisabled: limits.networkMode === 'none',
    HostConfig: {
      Privileged: false,
      CapDrop: ['ALL'],
      CapAdd: [],
      SecurityOpt: ['no-new-privileges:true'],
      NetworkMode: limits.networkMode,
      PidsLimit: limits.pidsLimit,
      Memory: limits.memoryBytes,
      // Equal to Memory: no swap, so a memory blow-up is an OOM kill, not a slow crawl.
      MemorySwap: limits.memoryBytes,
      NanoCpus: limits.nanoCpus,
      ReadonlyRootfs: limits.readOnlyRootfs,
      Tmpfs: { '/tmp': TMPFS_OPTIONS },
      Ulimits: [
        { Name: 'nofile', Soft: 4096, Hard: 4096 },
        // nproc counts per user across the host; PidsLimit is the per-container bound.
        { Name: 'nproc', Soft: 4096, Hard: 4096 },
        { Name: 'fsize', Soft: 1024 ** 3, Hard: 1024 ** 3 },
      ],
      Init: true,
      Binds: [],
      Devices: [],
      PortBindings: {},
      PublishAllPorts: false,
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '1' } },
      AutoRemove: false,
      RestartPolicy: { Name: 'no' },
    },
  };
  if (input.cmd) spec.Cmd = input.cmd;
  if (input.entrypoint) spec.Entrypoint = input.entrypoint;
  if (input.workingDir) spec.WorkingDir = input.workingDir;
  if (input.user) spec.User = input.user;
  if (input.runtime) spec.HostConfig!.Runtime = input.runtime;
  if (input.volume) {
    spec.HostConfig!.Mounts = [
      // NoCopy: the volume starts empty rather than seeded from the image's directory.
      { Type: 'volume', Source: input.volume.name, Target: input.volume.target, VolumeOptions: { NoCopy: true, Labels: input.labels, DriverConfig: { Name: 'local', Options: {} } } },
    ];
  }
  return spec;
}
