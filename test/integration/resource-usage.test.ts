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
