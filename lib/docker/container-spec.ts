/**
 * Builds the Engine API create body for a run. The gateway writes every field itself
 * from validated values: no caller-supplied HostConfig is ever passed through, so
 * binds, devices, privileged mode and host namespaces cannot reach the daemon.
 * The hardened defaults are SECURITY.md's table, one line each.
 */
import { posix } from 'node:path';
import type { ContainerCreateOptions } from 'dockerode';
import type { RunSpec } from '../runtime/container-runtime.js';

/** The run's own fields come from the seam's RunSpec; the rest is how this backend lays them out. */
export interface ContainerSpecInput extends Pick<RunSpec, 'image' | 'cmd' | 'entrypoint' | 'env' | 'workingDir' | 'user' | 'labels' | 'limits' | 'runtime'> {
  /** Container name: `slipway-<run id>`, so operators can tell runs apart in `docker ps`. */
  name?: string | undefined;
  openStdin: boolean;
  stopGraceSeconds: number;
  /** A Slipway-created, labelled volume mounted at `target` (payload files go in here); `readOnly` for a sandbox's agent. */
  volume?: { name: string; target: string; readOnly?: boolean | undefined } | undefined;
  /** More tmpfs mounts beside /tmp (a sandbox's workspace), destination to options. */
  extraTmpfs?: Record<string, string> | undefined;
  /**
   * The paths the image declares as `VOLUME`. Each gets a tmpfs bounded like /tmp: left
   * alone, the engine would create an anonymous volume there, a writable directory on
   * host disk with no size bound inside a "read-only" container.
   */
  imageVolumes?: string[] | undefined;
  /** A cgroup of the run's own to create the container under, so its usage outlives it (./cgroup-usage.ts). */
  cgroupParent?: string | undefined;
}

/** Every writable place of a run is one of these: a tmpfs with a size, counted against the memory limit. */
export const TMPFS_OPTIONS = 'rw,nosuid,nodev,size=64m';

/**
 * /tmp and a tmpfs at each image volume path, as the engine compares destinations
 * (cleaned, no trailing slash); the payload volume's own path is left to the payload volume.
 */
export function tmpfsMounts(imageVolumes: string[] = [], payloadDir?: string): Record<string, string> {
  const mounts: Record<string, string> = { '/tmp': TMPFS_OPTIONS };
  for (const path of imageVolumes) {
    const destination = posix.normalize(`/${path}`).replace(/(.)\/+$/, '$1');
    if (destination !== payloadDir) mounts[destination] = TMPFS_OPTIONS;
  }
  return mounts;
}

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
      Tmpfs: { ...tmpfsMounts(input.imageVolumes, input.volume?.target), ...input.extraTmpfs },
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
  if (input.cgroupParent) spec.HostConfig!.CgroupParent = input.cgroupParent;
  if (input.volume) {
    spec.HostConfig!.Mounts = [
      // NoCopy: the volume starts empty rather than seeded from the image's directory.
      { Type: 'volume', Source: input.volume.name, Target: input.volume.target, ReadOnly: input.volume.readOnly ?? false, VolumeOptions: { NoCopy: true, Labels: input.labels, DriverConfig: { Name: 'local', Options: {} } } },
    ];
  }
  return spec;
}
