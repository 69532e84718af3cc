// While a run executes: progress and log notifications on the call's stream, the
// session's logging level, and cancellation through notifications/cancelled.
import t from 'tap';
import { LoggingMessageNotificationSchema, type LoggingMessageNotification } from '@modelcontextprotocol/sdk/types.js';
import type { RunResult } from '../../schemas/run-result.js';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { connectClient, containerGone, containersOfRun, eventually, type Connected } from '../fixtures/mcp.js';

const gw = await startGateway();
t.teardown(() => gw.close());

// The runs the gateway finished, as the executor returned them: a cancelled call gets
// no response (the spec says so), so this is where its final status can be seen.
const finished: RunResult[] = [];
const runImage = gw.app.slipway.runImage.bind(gw.app.slipway);
gw.app.slipway.runImage = async (input, options) => {
  const result = await runImage(input, options);
  finished.push(result);
  return result;
};

const SLOW_LINES = ['sh', '-c', 'for i in 1 2 3 4; do echo line $i; sleep 1; done'];

/** Collects the log notifications a client receives, in order. */
function collectLogs(mcp: Connected, into: string[]): void {
  mcp.client.setNotificationHandler(LoggingMessageNotificationSchema, (n: LoggingMessageNotification) => {
    const { logger, data } = n.params;
    into.push(typeof data === 'string' ? `${logger}: ${data}` : `${logger}: ${JSON.stringify(data)}`);
  });
}

t.test('a run printing over several seconds streams progress and log notifications before its result', async (t) => {
  const mcp = await connectClient(gw.url);
  t.teardown(() => mcp.close());
  const timeline: string[] = [];
  collectLogs(mcp, timeline);
  const progress: { progress: number; message?: string | undefined }[] = [];

  const res = (await mcp.client.callTool({ name: 'execute_docker_container', arguments: { image: BUSYBOX_IMAGE, command: SLOW_LINES } }, undefined, {
    onprogress: (p) => {
      progress.push(p);
      timeline.push(`progress: ${p.message}`);
    },
    resetTimeoutOnProgress: true,
  })) as any;
  timeline.push('result');

  t.match(res.structuredContent, { success: true, stdout: 'line 1\nline 2\nline 3\nline 4\n' });
  const lines = timeline.filter((e) => e.startsWith('stdout: '));
  t.same(lines, ['stdout: line 1', 'stdout: line 2', 'stdout: line 3', 'stdout: line 4'], 'each output line as a log message, in order');
  t.ok(timeline.indexOf('stdout: line 1') < timeline.indexOf('stdout: line 4'), 'lines arrive as they are printed');
  t.equal(timeline[timeline.length - 1], 'result', 'every notification precedes the result');
  t.ok(timeline.some((e) => e.startsWith('slipway: ') && e.includes('"status":"running"')), 'the status change is logged');

  t.ok(progress.length >= 4, `progress notifications as the run moved (${progress.length})`);
  t.ok(progress.every((p, i) => i === 0 || p.progress > progress[i - 1]!.progress), 'progress increases with every notification');
  t.ok(progress.some((p) => p.message?.startsWith('status: running')), 'status in progress');
  t.ok(progress.some((p) => p.message === '4 lines of output so far'), 'output lines so far in progress');
  // Progress during the run, not only at its end: some came before the last line was printed.
  t.ok(timeline.findIndex((e) => e.startsWith('progress: ')) < timeline.indexOf('stdout: line 4'));
});

t.test('logging/setLevel is honoured per session', async (t) => {
  const quiet = await connectClient(gw.url);
  const chatty = await connectClient(gw.url);
  t.teardown(async () => {
    await quiet.close();
    await chatty.close();
  });
  const quietLogs: string[] = [];
  const chattyLogs: string[] = [];
  collectLogs(quiet, quietLogs);
  collectLogs(chatty, chattyLogs);
  await quiet.client.setLoggingLevel('warning');

  const args = { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo one; echo two >&2'] };
  const [a, b] = (await Promise.all([
    quiet.client.callTool({ name: 'execute_docker_container', arguments: args }),
    chatty.client.callTool({ name: 'execute_docker_container', arguments: args }),
  ])) as any[];
  t.match(a.structuredContent, { stdout: 'one\n', stderr: 'two\n' }, 'the result is complete either way');
  t.match(b.structuredContent, { stdout: 'one\n', stderr: 'two\n' });
  t.same(quietLogs, [], 'nothing below warning for the session that asked for warning');
  t.ok(chattyLogs.includes('stdout: one') && chattyLogs.includes('stderr: two'), 'the other session still gets its lines');
});

t.test('cancelling a call stops its container: the run ends cancelled and nothing is left', async (t) => {
  const mcp = await connectClient(gw.url);
  t.teardown(() => mcp.close());
  const logs: string[] = [];
  collectLogs(mcp, logs);
  const abort = new AbortController();
  const pending = mcp.client.callTool(
    { name: 'execute_docker_container', arguments: { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo started; sleep 60'], timeout: 120 } },
    undefined,
    { signal: abort.signal },
  );
  t.ok(await eventually(() => logs.includes('stdout: started')), 'the run is under way');
  const running = logs.map((l) => /"container_id":"([0-9a-f]{64})"/.exec(l)?.[1]).find(Boolean)!;
  t.ok(running, 'its container id was reported');
  t.equal(await containerGone(running), false, 'the container exists before the cancel');

  abort.abort('changed my mind');
  await t.rejects(pending, /changed my mind/, 'the client call ends at once');

  t.ok(await eventually(() => containerGone(running)), 'container gone (docker inspect 404)');
  t.ok(await eventually(() => finished.some((r) => r.container_id === running)), 'the run ended');
  const run = finished.find((r) => r.container_id === running)!;
  t.match(run, { status: 'cancelled', success: false, error_message: 'run was cancelled' });
  t.same(await containersOfRun(run.run_id), [], 'nothing labelled with the run is left');
  t.equal(gw.app.slipway.activeRuns.size, 0, 'no run is left active');

  const after = (await mcp.client.callTool({ name: 'execute_docker_container', arguments: { image: BUSYBOX_IMAGE, command: ['echo', 'still here'] } })) as any;
  t.match(after.structuredContent, { stdout: 'still here\n' }, 'the session goes on');
});
