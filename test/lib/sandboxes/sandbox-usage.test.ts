// The sandbox usage reader against a runtime stub: one reading serves every get of its
// window, gets during a reading share it, failures are not kept, and a backend without
// live usage is said to be one.
import t from 'tap';
import { pino } from 'pino';
import type { ContainerRuntime, LiveUsageReading } from '../../../lib/runtime/container-runtime.js';
import { SandboxUsageReader } from '../../../lib/sandboxes/sandbox-usage.js';

const log = pino({ level: 'silent' });
const READING: LiveUsageReading = { usage: { cpuSeconds: 1.5, memoryBytes: 1024, memoryPeakBytes: 2048, sampledAt: new Date('2026-01-01T00:00:00Z') } };

function runtime(answer: () => Promise<LiveUsageReading>) {
  const calls: string[] = [];
  const rt = { backend: 'docker', usage: (id: string) => (calls.push(id), answer()) } as unknown as ContainerRuntime;
  return { rt, calls };
}

t.test('gets within the window share one reading; after it, the engine is asked again', async (t) => {
  const { rt, calls } = runtime(async () => READING);
  const reader = new SandboxUsageReader(rt, log, 50);
  const [a, b] = await Promise.all([reader.read('c1'), reader.read('c1')]);
  t.same(a, { usage: { cpu_seconds: 1.5, memory_bytes: 1024, memory_peak_bytes: 2048, sampled_at: '2026-01-01T00:00:00.000Z' }, usage_unavailable: null });
  t.same(b, a);
  await reader.read('c1');
  t.same(calls, ['c1'], 'one engine call for three gets');
  await new Promise((r) => setTimeout(r, 80));
  await reader.read('c1');
  t.same(calls, ['c1', 'c1']);
});

t.test('a failed reading says so and is not kept for the window', async (t) => {
  let fail = true;
  const { rt, calls } = runtime(async () => {
    if (fail) throw new Error('engine away');
    return READING;
  });
  const reader = new SandboxUsageReader(rt, log, 10_000);
  t.same(await reader.read('c1'), { usage: null, usage_unavailable: "the engine did not answer for the container's usage" });
  fail = false;
  t.equal((await reader.read('c1')).usage?.cpu_seconds, 1.5);
  t.equal(calls.length, 2);
});

t.test("a backend's reason, a backend without live usage, and a sandbox without a container are all said", async (t) => {
  const { rt } = runtime(async () => ({ usage: null, unavailable: 'the container is not running' }));
  t.same(await new SandboxUsageReader(rt, log).read('c1'), { usage: null, usage_unavailable: 'the container is not running' });
  const bare = { backend: 'kubernetes' } as unknown as ContainerRuntime;
  t.same(await new SandboxUsageReader(bare, log).read('c1'), { usage: null, usage_unavailable: "the kubernetes backend does not report a live container's usage" });
  t.same(await new SandboxUsageReader(bare, log).read(null), { usage: null, usage_unavailable: 'the sandbox has no container yet' });
});
