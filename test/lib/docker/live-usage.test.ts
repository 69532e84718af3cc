// A live container's usage from the engine's one-shot stats, where the host's cgroup
// files cannot be read: memory now leaves out inactive file cache (v1 and v2 names), and
// a container that is not running is said to be one rather than reported as zeros.
import t from 'tap';
import type { DockerClient } from '../../../lib/docker/docker-client.js';
import { liveUsage } from '../../../lib/docker/live-usage.js';

const NO_CGROUPS = { version: null, reason: 'the engine is not on this host' } as const;

const engineAnswering = (sample: unknown) => ({ container: (id: string) => ({ id }), statsOnce: async () => sample }) as unknown as DockerClient;

t.test('a cgroup v1 sample gives CPU seconds, memory less inactive file cache, and the peak', async (t) => {
  const sample = { read: '2026-11-29T20:00:00.5Z', cpu_stats: { cpu_usage: { total_usage: 2_345_678_901 } }, memory_stats: { usage: 90_000_000, max_usage: 120_000_000, stats: { total_inactive_file: 10_000_000 } } };
  t.same(await liveUsage(engineAnswering(sample), NO_CGROUPS, 'c1'), {
    usage: { cpuSeconds: 2.346, memoryBytes: 80_000_000, memoryPeakBytes: 120_000_000, sampledAt: new Date('2026-11-29T20:00:00.5Z') },
  });
});

t.test('a cgroup v2 sample has no peak: null, not a guess', async (t) => {
  const sample = { read: '2026-11-29T20:00:00Z', cpu_stats: { cpu_usage: { total_usage: 1e9 } }, memory_stats: { usage: 5000, stats: { inactive_file: 1000 } } };
  t.match(await liveUsage(engineAnswering(sample), NO_CGROUPS, 'c1'), { usage: { cpuSeconds: 1, memoryBytes: 4000, memoryPeakBytes: null } });
});

t.test("the engine's empty sample of a stopped container is said, not reported as zeros", async (t) => {
  const sample = { read: '0001-01-01T00:00:00Z', cpu_stats: { cpu_usage: { total_usage: 0 } }, memory_stats: {} };
  t.same(await liveUsage(engineAnswering(sample), NO_CGROUPS, 'c1'), { usage: null, unavailable: 'the container is not running' });
});
