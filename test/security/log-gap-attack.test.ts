// Issue 9: after a kill -9 of the gateway during a run that printed more than the
// engine's log keeps (json-file, max-size 10m), output was silently missing and the
// recorded stdout started in the middle. Now the result's stdout is the true start (the
// head the earlier process logged) and a `gap` event marks where output was lost.
// Against a real gateway process and the real engine.
import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnGateway, type GatewayProcess } from '../fixtures/gateway-process.js';
import { docker, TEST_INSTANCE } from '../fixtures/docker.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { pollUntilFinal, pollUntilRunning } from '../fixtures/runs.js';
import { eventually } from '../fixtures/mcp.js';

const INSTANCE = `${TEST_INSTANCE}-log-gap`;
const dataDir = await mkdtemp(join(tmpdir(), 'slipway-log-gap-'));
t.teardown(() => rm(dataDir, { recursive: true, force: true }));
const env = { SLIPWAY_DATA_DIR: dataDir, SLIPWAY_INSTANCE: INSTANCE };

function client(gw: GatewayProcess) {
  return {
    async request(method: string, path: string, body?: unknown) {
      const res = await fetch(gw.url + path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : null });
      return { status: res.status, body: (await res.json()) as any };
    },
  };
}

const FIRST = 50_000;
const LAST = 4_000_000; // about 31 MB of numbered lines: three times what the engine's log keeps

t.test('kill -9 while a run prints 30 MB: stdout starts at line 1 and the lost output is marked where it happened', async (t) => {
  const first = await spawnGateway(env);
  t.teardown(() => first.kill('SIGKILL'));
  const script = `seq 1 ${FIRST}; until [ -e /tmp/go ]; do sleep 0.1; done; seq ${FIRST + 1} ${LAST}`;
  const runId = (await client(first).request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['sh', '-c', script], timeout: 600, wait: false })).body.run_id;
  const { container_id: containerId } = await pollUntilRunning(client(first), runId);
  const logPath = join(dataDir, 'logs', `${runId}.ndjson`);
  t.ok(await eventually(async () => (await readFile(logPath, 'utf8').catch(() => '')).includes(`\\n${FIRST}\\n`), 30_000), 'the first gateway logged the first lines');

  await first.kill('SIGKILL');
  // While the gateway is down the run prints the rest: the engine's log keeps only its end.
  const exec = await docker.getContainer(containerId).exec({ Cmd: ['touch', '/tmp/go'] });
  (await exec.start({})).resume();
  await docker.getContainer(containerId).wait();

  const second = await spawnGateway(env);
  t.teardown(() => second.kill('SIGKILL'));
  const final = await pollUntilFinal(client(second), runId, 300_000);
  t.match(final, { status: 'succeeded', exit_code: 0, stdout_truncated: true, log_truncated: true });
  const lines = final.stdout.split('\n');
  t.strictSame(lines.slice(0, 3), ['1', '2', '3'], 'the recorded stdout is the true start of the output');
  t.ok(lines.slice(0, FIRST).every((l: string, i: number) => l === String(i + 1)), 'and goes on in order');

  const events = (await readFile(logPath, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  t.same(events.map((e) => e.id), events.map((_, i) => i + 1), 'event ids stay consecutive across the restart');
  const gapAt = events.findIndex((e) => e.type === 'gap');
  t.ok(gapAt > 0, 'a gap event is in the run log');
  t.match(events[gapAt].data, { after: String, resumed_at: String, message: /was lost/ });
  const before = events.slice(0, gapAt).filter((e) => e.type === 'stdout').map((e) => e.data).join('').split('\n').filter(Boolean);
  const after = events.slice(gapAt).filter((e) => e.type === 'stdout').map((e) => e.data).join('').split('\n').filter(Boolean);
  t.strictSame(before.slice(0, 2), ['1', '2']);
  t.equal(before.at(-1), String(FIRST), 'before the gap: everything the first gateway logged');
  t.ok(Number(after[0]) > FIRST + 1, `after the gap: the engine's log resumes at line ${after[0]}, past what was lost`);
  t.ok(after.every((l, i) => Number(l) === Number(after[0]) + i), 'and goes on without another hole');

  const next = await client(second).request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['echo', 'next'] });
  t.match(next.body, { status: 'succeeded', stdout: 'next\n' }, 'the next run works');
  await second.kill('SIGTERM');
});
