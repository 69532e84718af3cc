/**
 * A live container's usage now (a sandbox's, for get_sandbox). From the container's own
 * cgroup files when this process can read the engine's (instant, ./cgroup-usage.ts),
 * else one stats sample from the engine: `one-shot`, so one sample rather than two, but
 * Docker answers it at its stats collector's next round, within about a second.
 */
import type Docker from 'dockerode';
import type { LiveUsageReading } from '../runtime/container-runtime.js';
import { readLiveUsage, type CgroupProbe } from './cgroup-usage.js';
import type { DockerClient } from './docker-client.js';

/** The fields of a stats sample read here (cgroup v1 names the cache `total_inactive_file`, v2 `inactive_file`). */
type StatsSample = Pick<Docker.ContainerStats, 'read' | 'cpu_stats'> & {
  memory_stats?: { usage?: number; max_usage?: number; stats?: Record<string, number> };
};

export async function liveUsage(docker: DockerClient, probe: CgroupProbe, containerId: string): Promise<LiveUsageReading> {
  if (probe.version) {
    const usage = await readLiveUsage(probe.version, probe.root, containerId).catch(() => null);
    if (usage) return { usage };
  }
  const sample = (await docker.statsOnce(docker.container(containerId))) as unknown as StatsSample;
  // A container that is not running answers an empty sample (read 0001-01-01, no figures).
  if (!sample.read || sample.read.startsWith('0001') || !sample.memory_stats?.usage) return { usage: null, unavailable: 'the container is not running' };
  const memory = sample.memory_stats;
  const cache = memory.stats?.total_inactive_file ?? memory.stats?.inactive_file ?? 0;
  return {
    usage: {
      cpuSeconds: Math.round((sample.cpu_stats?.cpu_usage?.total_usage ?? 0) / 1e6) / 1e3,
      memoryBytes: Math.max(0, (memory.usage ?? 0) - cache),
      memoryPeakBytes: memory.max_usage ?? null,
      sampledAt: new Date(sample.read),
    },
  };
}
