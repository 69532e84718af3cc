// Each finished run records what its container used, from the engine's samples, on
// the real engine: peak memory near what the process allocated, CPU time of a busy
// loop, kept in the record and said in the MCP result text.
import { existsSync } from 'node:fs';
import t from 'tap';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE, PYTHON_IMAGE } from '../fixtures/images.js';
import { connectClient } from '../fixtures/mcp.js';
import { waitFor } from '../fixtures/wait.js';

const MIB = 1024 * 1024;
const gw = await startGateway();
t.teardown(() => gw.close());

// The engine samples about once a second: each run holds what it measures for longer than that.
const HOLD_100_MIB = 'b = bytearray(100 * 1024 * 1024)\nimport time\ntime.sleep(2.5)\n';

t.test('a run that holds 100 MiB reports a peak of about that, in its answer and its record', async (t) => {
  const res = await gw.request('POST', '/v1/containers/run', { image: PYTHON_IMAGE, command: ['python3', '-c', HOLD_100_MIB], memory_limit: '512m' });
  t.equal(res.body.status, 'succeeded', JSON.stringify(res.body));
  const peak = res.body.resource_usage?.memory_peak_bytes;
  t.ok(peak >= 80 * MIB && peak <= 400 * MIB, `peak ${peak} bytes is within 80-400 MiB`);
  t.ok(res.body.resource_usage.cpu_seconds >= 0);
  const record = await gw.request('GET', `/v1/runs/${res.body.run_id}`);
  t.same(record.body.resource_usage, res.body.resource_usage, 'the record keeps it');
});

// The engine's samples come once a second and its cgroup is gone when `wait` answers: an
// echo's figures are only known because the run's container lives under a cgroup of the
// run's own, which keeps them (lib/docker/cgroup-usage.ts).
t.test('an echo of a few milliseconds still reports its CPU time and a peak memory above zero', async (t) => {
  const res = await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['echo', 'hi'] });
  t.equal(res.body.status, 'succeeded');
  t.ok(res.body.resource_usage, `usage is known (${res.body.resource_usage_unavailable})`);
  t.ok(res.body.resource_usage.memory_peak_bytes > 0, `peak ${res.body.resource_usage.memory_peak_bytes} bytes > 0`);
  t.ok(res.body.resource_usage.memory_peak_bytes < 64 * MIB, 'an echo holds far less than 64 MiB');
  t.ok(res.body.resource_usage.cpu_seconds > 0, `cpu_seconds ${res.body.resource_usage.cpu_seconds} > 0`);
  t.equal(res.body.resource_usage_unavailable, null);
  const record = await gw.request('GET', `/v1/runs/${res.body.run_id}`);
  t.same(record.body.resource_usage, res.body.resource_usage, 'the record keeps it');
});

t.test('a short run that writes 50 MiB to its /tmp (a tmpfs, counted as memory) reports a peak of at least that', async (t) => {
  const res = await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'head -c 52428800 /dev/zero > /tmp/blob'], memory_limit: '256m' });
  t.equal(res.body.status, 'succeeded', JSON.stringify(res.body));
  const peak = res.body.resource_usage?.memory_peak_bytes;
  t.ok(peak >= 50 * MIB && peak <= 200 * MIB, `peak ${peak} bytes is within 50-200 MiB`);
});

t.test("a finished run's own cgroup is removed from the host after its answer", async (t) => {
  const res = await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['true'] });
  t.equal(res.body.status, 'succeeded');
  const parent = `/sys/fs/cgroup/memory/slipway-run-${res.body.run_id}`;
  await waitFor(() => !existsSync(parent), { timeoutMs: 5000, what: `${parent} to be removed` });
  t.pass('no cgroup of the run is left');
});

t.test('a busy loop of two seconds reports CPU time used', async (t) => {
  const busy = 'end=$(( $(date +%s) + 3 )); while [ "$(date +%s)" -lt "$end" ]; do :; done';
  const res = await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['sh', '-c', busy] });
  t.equal(res.body.status, 'succeeded');
  t.ok(res.body.resource_usage.cpu_seconds > 0.3, `cpu_seconds ${res.body.resource_usage.cpu_seconds} > 0.3`);
  t.ok(res.body.resource_usage.memory_peak_bytes > 0);
});

t.test('the MCP result text says the CPU time and memory peak', async (t) => {
  const mcp = await connectClient(gw.url);
  t.teardown(() => mcp.close());
  const res = (await mcp.client.callTool({ name: 'execute_docker_container', arguments: { image: PYTHON_IMAGE, command: ['python3', '-c', HOLD_100_MIB] } })) as any;
  t.match(res.structuredContent.resource_usage, { cpu_seconds: Number, memory_peak_bytes: Number });
  t.match(res.content[0].text, /used [\d.]+ s of CPU, memory peak \d+\.\d MiB/);
});

t.test('a run that never started a container has no resource usage', async (t) => {
  const res = await gw.request('POST', '/v1/containers/run', { image: 'slipway-test/absent:1', pull_policy: 'never', wait: false });
  for (let i = 0; i < 100; i++) {
    const record = await gw.request('GET', `/v1/runs/${res.body.run_id}`);
    if (record.body.status === 'error') {
      t.equal(record.body.resource_usage, null);
      return t.equal(record.body.resource_usage_unavailable, 'no container was started', 'and says why');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  t.fail('the run did not end');
});

// A file in /workspace (a tmpfs) is memory the sandbox holds, counted against its limit
// until deleted: the simplest allocation that outlives the exec that made it.
t.test("a live sandbox's get shows its memory grow after an exec writes 64 MiB into its /workspace", async (t) => {
  const created = await gw.request('POST', '/v1/sandboxes', { image: BUSYBOX_IMAGE, memory_limit: '256m' });
  t.equal(created.status, 200, JSON.stringify(created.body));
  const id = created.body.sandbox_id;
  t.teardown(() => gw.request('DELETE', `/v1/sandboxes/${id}`));
  t.notOk('usage' in created.body, 'creating answers no usage (only a get measures)');

  const before = await gw.request('GET', `/v1/sandboxes/${id}`);
  t.ok(before.body.usage, `usage is known (${before.body.usage_unavailable})`);
  t.equal(before.body.usage_unavailable, null);
  t.ok(before.body.usage.memory_bytes < 32 * MIB, `an idle sandbox holds little: ${before.body.usage.memory_bytes} bytes`);

  const exec = await gw.request('POST', `/v1/sandboxes/${id}/exec`, { command: ['sh', '-c', 'head -c 67108864 /dev/zero > /workspace/blob'] });
  t.equal(exec.body.status, 'succeeded', JSON.stringify(exec.body));
  t.equal(exec.body.resource_usage, null, 'an exec has no figures of its own');
  t.match(exec.body.resource_usage_unavailable, /sandbox/, 'and says where to look');

  const grown = await waitFor(
    async () => {
      const got = await gw.request('GET', `/v1/sandboxes/${id}`);
      return got.body.usage?.memory_bytes >= before.body.usage.memory_bytes + 60 * MIB ? got.body : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 250, what: 'the sandbox memory to grow by 60 MiB' },
  );
  t.ok(grown.usage.memory_bytes <= 128 * MIB, `memory now ${grown.usage.memory_bytes} bytes is within 60-128 MiB`);
  t.ok(grown.usage.cpu_seconds > 0, `cpu_seconds ${grown.usage.cpu_seconds} > 0`);
  if (grown.usage.memory_peak_bytes !== null) t.ok(grown.usage.memory_peak_bytes >= grown.usage.memory_bytes, 'the peak is at least what it holds now');

  const list = await gw.request('GET', '/v1/sandboxes');
  t.notOk('usage' in list.body.sandboxes.find((s: { sandbox_id: string }) => s.sandbox_id === id), 'listing does not measure');

  const mcp = await connectClient(gw.url);
  t.teardown(() => mcp.close());
  const viaMcp = (await mcp.client.callTool({ name: 'get_sandbox', arguments: { sandbox_id: id } })) as any;
  t.ok(viaMcp.structuredContent.usage.memory_bytes >= 60 * MIB, 'get_sandbox on MCP carries it too');
  t.match(viaMcp.content[0].text, /using [\d.]+ s of CPU so far, \d+\.\d MiB of memory now/);
});
