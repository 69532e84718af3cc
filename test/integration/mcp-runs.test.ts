// The run tools over MCP: start without waiting, look up, page the log, cancel,
// and retry with an idempotency key, through the SDK's own client.
import t from 'tap';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { connectClient, containerGone, eventually } from '../fixtures/mcp.js';

const gw = await startGateway();
const mcp = await connectClient(gw.url);
t.teardown(async () => {
  await mcp.close();
  await gw.close();
});
const call = (name: string, args: Record<string, unknown>) => mcp.client.callTool({ name, arguments: args }) as Promise<any>;

async function untilStatus(runId: string, done: (status: string) => boolean): Promise<any> {
  for (let i = 0; i < 300; i++) {
    const res = await call('get_run', { run_id: runId });
    if (done(res.structuredContent.status)) return res;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${runId} did not get there`);
}

t.test('wait: false answers at once; get_run follows the run to its result; get_run_logs pages its log', async (t) => {
  const started = await call('execute_docker_container', { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'for i in 1 2 3; do echo "l $i"; sleep 0.3; done'], wait: false });
  t.notOk(started.isError);
  t.match(started.structuredContent, { status: 'queued', run_id: /^[0-9a-f-]{36}$/, exit_code: null });
  const runId = started.structuredContent.run_id;
  const done = await untilStatus(runId, (s) => s === 'succeeded' || s === 'failed');
  t.match(done.structuredContent, { status: 'succeeded', kind: 'image', stdout: 'l 1\nl 2\nl 3\n', exit_code: 0 });
  t.match(done.content[0].text, /status: succeeded, exit code 0/);

  const first = await call('get_run_logs', { run_id: runId, limit: 3 });
  t.equal(first.structuredContent.events.length, 3);
  t.equal(first.structuredContent.complete, false);
  const rest = await call('get_run_logs', { run_id: runId, after_event_id: first.structuredContent.last_event_id });
  t.equal(rest.structuredContent.complete, true);
  const all = [...first.structuredContent.events, ...rest.structuredContent.events];
  t.same(all.map((e: any) => e.id), all.map((_: unknown, i: number) => i + 1), 'consecutive ids across pages');
  t.same(all.filter((e: any) => e.type === 'stdout').map((e: any) => e.data).join(''), 'l 1\nl 2\nl 3\n');
  t.equal(all.at(-1).type, 'end');
});

t.test('cancel_run stops a running run; its container is gone; cancelling again is an error', async (t) => {
  const started = await call('execute_with_payload', { language: 'sh', payload: 'echo up; sleep 60', wait: false });
  const runId = started.structuredContent.run_id;
  await untilStatus(runId, (s) => s === 'running');
  const cancelled = await call('cancel_run', { run_id: runId });
  t.notOk(cancelled.isError);
  t.match(cancelled.structuredContent, { status: 'cancelled', kind: 'payload' });
  t.ok(await eventually(() => containerGone(cancelled.structuredContent.container_id)), 'container gone');
  const again = await call('cancel_run', { run_id: runId });
  t.equal(again.isError, true);
  t.match(again.content[0].text, /SLIPWAY_ERR_CONFLICT/);
});

t.test('the same idempotency_key returns the same run', async (t) => {
  const args = { image: BUSYBOX_IMAGE, command: ['echo', 'only once'], idempotency_key: 'mcp-retry-1' };
  const first = await call('execute_docker_container', args);
  const second = await call('execute_docker_container', args);
  t.equal(second.structuredContent.run_id, first.structuredContent.run_id);
  t.equal(second.structuredContent.stdout, 'only once\n');
});

t.test('an unknown run is a tool error naming it; so is a malformed id', async (t) => {
  const unknown = await call('get_run', { run_id: '00000000-0000-0000-0000-000000000000' });
  t.equal(unknown.isError, true);
  t.match(unknown.content[0].text, /SLIPWAY_ERR_RUN_NOT_FOUND/);
  const malformed = await call('get_run', { run_id: '../etc' });
  t.equal(malformed.isError, true);
  t.match(malformed._meta['io.slipway/error'], { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'run_id' });
});
