// How a run's usage is read from the engine's stats samples: the figures of the last
// real sample, never the empty ones the engine sends once the container has exited.
import t from 'tap';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { UsageSampler } from '../../../lib/docker/usage-sampler.js';
import type { DockerClient, EngineContainer } from '../../../lib/docker/docker-client.js';

const container = { id: 'c1' } as EngineContainer;
const log = pino({ level: 'silent' });

function sampler(): { stream: PassThrough; usage: UsageSampler } {
  const stream = new PassThrough();
  const docker = { stats: async () => stream } as unknown as DockerClient;
  return { stream, usage: new UsageSampler(docker, container, log) };
}

const sample = (read: string, cpuNs: number, memory: { usage?: number; max_usage?: number }) =>
  `${JSON.stringify({ read, cpu_stats: { cpu_usage: { total_usage: cpuNs } }, memory_stats: memory })}\n`;

const tick = () => new Promise((r) => setImmediate(r));

t.test('the last real sample gives CPU seconds and the highest memory seen; the empty samples after the exit are ignored', async (t) => {
  const { stream, usage } = sampler();
  await tick();
  stream.write(sample('2026-11-29T18:00:00.5Z', 250_000_000, { usage: 50 * 2 ** 20, max_usage: 60 * 2 ** 20 }));
  stream.write(sample('2026-11-29T18:00:01.5Z', 1_250_000_000, { usage: 10 * 2 ** 20, max_usage: 110 * 2 ** 20 }));
  stream.write(sample('0001-01-01T00:00:00Z', 0, {}));
  await tick();
  t.strictSame(usage.usage(), { cpu_seconds: 1.25, memory_peak_bytes: 110 * 2 ** 20 });
  usage.stop();
  t.ok(stream.destroyed, 'stopping closes the stream');
});

t.test('cgroup v2 samples (usage only, no max_usage) give the highest usage seen', async (t) => {
  const { stream, usage } = sampler();
  await tick();
  stream.write(sample('2026-11-29T18:00:00.5Z', 1_000_000, { usage: 80 * 2 ** 20 }));
  stream.write(sample('2026-11-29T18:00:01.5Z', 2_000_000, { usage: 20 * 2 ** 20 }));
  await tick();
  t.strictSame(usage.usage(), { cpu_seconds: 0.002, memory_peak_bytes: 80 * 2 ** 20 });
  usage.stop();
});

t.test('a run that ended before any sample has no usage (null), and a failed stats call is not an error', async (t) => {
  const { stream, usage } = sampler();
  await tick();
  stream.write(sample('0001-01-01T00:00:00Z', 0, {}));
  await tick();
  t.equal(usage.usage(), null);
  usage.stop();
  const failing = new UsageSampler({ stats: async () => Promise.reject(new Error('no such container')) } as unknown as DockerClient, container, log);
  await tick();
  t.equal(failing.usage(), null);
  failing.stop();
});
