/**
 * A run's CPU time and peak memory, exact even for a run of a few milliseconds, read
 * from the host's cgroup files rather than the engine's stats.
 *
 * Why not the engine: Docker 20.10 samples every container's stats once a second (one
 * collector for all), a one-shot `stats` waits for that collector's next round, and
 * once the process exits the container's cgroup is deleted before `wait` answers, so a
 * run shorter than a second usually ends before its first sample and the figures are
 * gone by the time anyone asks.
 *
 * What works: each run's container is created under a cgroup parent of its own
 * (`CgroupParent: /slipway-run-<run id>`). The kernel accounts a child's CPU time and
 * memory into its parent as it goes, and keeps the parent's figures when the child is
 * deleted, so after `wait` the parent still holds the whole run: cgroup v1
 * `memory.max_usage_in_bytes` and `cpuacct.usage`, cgroup v2 `memory.peak` and
 * `cpu.stat`. Reading them is two small file reads and no engine round trip; the
 * parent is removed after the run's answer.
 *
 * Only possible when this process sees the engine's cgroup tree: a local engine (unix
 * socket) with the `cgroupfs` driver (the systemd driver wants slices), Docker rather
 * than Podman, and /sys/fs/cgroup writable here. Anywhere else `probe` says why not and
 * runs keep the engine's sampler (lib/docker/usage-sampler.ts).
 */
import { constants } from 'node:fs';
import { access, readdir, readFile, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { LiveUsage } from '../runtime/container-runtime.js';
import type { ResourceUsage } from '../../schemas/run-result.js';

export type CgroupVersion = 'v1' | 'v2';

/** The engine facts the probe needs (`GET /info`, and whether it is Docker on a local socket). */
export interface EngineCgroupFacts {
  local: boolean;
  flavour: 'docker' | 'podman';
  cgroupDriver?: string | undefined;
  cgroupVersion?: string | undefined;
}

/** Either the host's cgroup tree can be read for runs, or why not (kept for the record's reason). */
export type CgroupProbe = { version: CgroupVersion; root: string } | { version: null; reason: string };

export const CGROUP_ROOT = '/sys/fs/cgroup';

/** The cgroup parent a run's container is created under; derived from the run id, so a restarted gateway finds it again. */
export function runCgroupParent(runId: string): string {
  return `/slipway-run-${runId}`;
}

export async function probeCgroups(facts: EngineCgroupFacts, root = CGROUP_ROOT): Promise<CgroupProbe> {
  if (!facts.local) return { version: null, reason: 'the engine is not on this host (not a unix socket), so its cgroup files cannot be read here' };
  if (facts.flavour !== 'docker') return { version: null, reason: 'Podman places containers in cgroups of its own' };
  if (facts.cgroupDriver !== 'cgroupfs') return { version: null, reason: `the engine's cgroup driver is ${facts.cgroupDriver ?? 'unknown'}, not cgroupfs` };
  const version: CgroupVersion | undefined = facts.cgroupVersion === '1' ? 'v1' : facts.cgroupVersion === '2' ? 'v2' : undefined;
  if (!version) return { version: null, reason: `the engine's cgroup version is ${facts.cgroupVersion ?? 'unknown'}` };
  const needed = version === 'v1' ? [join(root, 'memory'), join(root, 'cpuacct')] : [join(root, 'cgroup.controllers')];
  try {
    for (const path of needed) await access(path, constants.R_OK | (path.endsWith('controllers') ? 0 : constants.W_OK));
    if (version === 'v2') await access(root, constants.W_OK);
  } catch {
    return { version: null, reason: `this process cannot read and write the host's cgroup tree at ${root}` };
  }
  return { version, root };
}

/** The final figures of a finished run from its parent cgroup; null when the parent is not there. */
export async function readRunUsage(version: CgroupVersion, root: string, parent: string): Promise<ResourceUsage | null> {
  try {
    if (version === 'v1') {
      const [peak, cpu] = await Promise.all([readNumber(join(root, 'memory', parent, 'memory.max_usage_in_bytes')), readNumber(join(root, 'cpuacct', parent, 'cpuacct.usage'))]);
      return { cpu_seconds: roundCpu(cpu / 1e9), memory_peak_bytes: peak };
    }
    const [peak, stat] = await Promise.all([readNumber(join(root, parent, 'memory.peak')), readFile(join(root, parent, 'cpu.stat'), 'utf8')]);
    return { cpu_seconds: roundCpu(statField(stat, 'usage_usec') / 1e6), memory_peak_bytes: peak };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Removes a run's parent cgroup from every hierarchy the runtime created it in (v1 has
 * one per controller, v2 one). Missing ones are fine; a busy one (still has a task) is
 * left and logged.
 */
export async function removeRunCgroup(version: CgroupVersion, root: string, parent: string, log: Logger): Promise<void> {
  const hierarchies = version === 'v2' ? [root] : (await readdir(root)).map((name) => join(root, name));
  await Promise.all(
    hierarchies.map((dir) =>
      rmdir(join(dir, parent)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') log.warn({ cgroup: join(dir, parent), err: String(err) }, 'run cgroup not removed');
      }),
    ),
  );
}

/** How old an empty run cgroup must be before a sweep takes it for a leftover rather than a run just ended. */
export const LEFTOVER_AGE_MS = 60_000;

/**
 * Removes run cgroups a gateway left behind (it stopped between a run's end and the
 * removal, or the run's container was removed without it): those with no container's
 * cgroup inside and untouched for `LEFTOVER_AGE_MS`. A run still going has its
 * container's cgroup inside and is never touched. Answers how many were removed.
 */
export async function sweepRunCgroups(version: CgroupVersion, root: string, log: Logger, now = Date.now()): Promise<number> {
  const base = version === 'v1' ? join(root, 'memory') : root;
  let removed = 0;
  for (const entry of await readdir(base, { withFileTypes: true })) {
    if (!entry.isDirectory() || !/^slipway-run-[0-9a-f-]{36}$/.test(entry.name)) continue;
    const dir = join(base, entry.name);
    const [inside, info] = await Promise.all([readdir(dir, { withFileTypes: true }), stat(dir)]);
    if (inside.some((e) => e.isDirectory()) || now - info.mtimeMs < LEFTOVER_AGE_MS) continue;
    await removeRunCgroup(version, root, `/${entry.name}`, log);
    removed++;
  }
  return removed;
}

/**
 * A live container's usage from its own cgroup, where the cgroupfs driver puts a
 * container created without a parent (`/docker/<id>`); null when it is not there (another
 * parent, or not running). Memory now is usage less inactive file cache, as `docker stats` shows it.
 */
export async function readLiveUsage(version: CgroupVersion, root: string, containerId: string): Promise<LiveUsage | null> {
  if (!/^[0-9a-f]{64}$/.test(containerId)) return null;
  const sampledAt = new Date();
  try {
    if (version === 'v1') {
      const memory = join(root, 'memory', 'docker', containerId);
      const [usage, peak, stat, cpu] = await Promise.all([
        readNumber(join(memory, 'memory.usage_in_bytes')),
        readNumber(join(memory, 'memory.max_usage_in_bytes')),
        readFile(join(memory, 'memory.stat'), 'utf8'),
        readNumber(join(root, 'cpuacct', 'docker', containerId, 'cpuacct.usage')),
      ]);
      return { cpuSeconds: roundCpu(cpu / 1e9), memoryBytes: Math.max(0, usage - statField(stat, 'total_inactive_file')), memoryPeakBytes: peak, sampledAt };
    }
    const dir = join(root, 'docker', containerId);
    const [current, peak, stat, cpu] = await Promise.all([
      readNumber(join(dir, 'memory.current')),
      readNumber(join(dir, 'memory.peak')).catch(() => null),
      readFile(join(dir, 'memory.stat'), 'utf8'),
      readFile(join(dir, 'cpu.stat'), 'utf8'),
    ]);
    return { cpuSeconds: roundCpu(statField(cpu, 'usage_usec') / 1e6), memoryBytes: Math.max(0, current - statField(stat, 'inactive_file')), memoryPeakBytes: peak, sampledAt };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** A `name value` line of a cgroup stat file; 0 when absent. */
function statField(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}

async function readNumber(path: string): Promise<number> {
  const n = Number((await readFile(path, 'utf8')).trim());
  if (!Number.isFinite(n)) throw new Error(`${path} does not hold a number`);
  return n;
}

const roundCpu = (seconds: number): number => Math.round(seconds * 1e3) / 1e3;
