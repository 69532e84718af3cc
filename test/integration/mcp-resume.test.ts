// Resumability: a dropped connection never cancels a run, and a client that comes back
// with Last-Event-ID gets the messages it missed, the call's result among them.
import t from 'tap';
import { LATEST_PROTOCOL_VERSION, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { connectClient, eventually, rawInitialize, rawRequest, sseMessages } from '../fixtures/mcp.js';

const gw = await startGateway();
t.teardown(() => gw.close());
const mcpUrl = `${gw.url}/mcp`;
const SLOW_LINES = ['sh', '-c', 'for i in 1 2 3 4; do echo line $i; sleep 1; done'];

t.test('the SDK client resumes a call whose stream dropped, with Last-Event-ID, and gets every line once', async (t) => {
  const lastEventIds: (string | null)[] = [];
  let dropped = false;
  // A fetch that lets the tools/call stream deliver its first output line, then fails
  // it the way a dropped connection does; every other request goes through untouched.
  const droppingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const res = await fetch(input, init);
    if (init?.method === 'GET') lastEventIds.push(new Headers(init.headers).get('last-event-id'));
    const isCall = init?.method === 'POST' && typeof init.body === 'string' && init.body.includes('"tools/call"');
    if (dropped || !isCall || !res.body) return res;
    dropped = true;
    const reader = res.body.getReader();
    let seen = '';
    let cut = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (cut) {
          await reader.cancel();
          controller.error(new TypeError('terminated: connection dropped'));
          return;
        }
        const { value, done } = await reader.read();
        if (done) return controller.close();
        seen += Buffer.from(value).toString('utf8');
        cut = seen.includes('line 1');
        controller.enqueue(value);
      },
    });
    return new Response(body, { status: res.status, headers: res.headers });
  };

  const mcp = await connectClient(gw.url, {
    fetch: droppingFetch,
    reconnectionOptions: { initialReconnectionDelay: 300, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1.5, maxRetries: 5 },
  });
  t.teardown(() => mcp.close());
  const lines: string[] = [];
  mcp.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    if (n.params.logger === 'stdout') lines.push(String(n.params.data));
  });

  const res = (await mcp.client.callTool({ name: 'execute_docker_container', arguments: { image: BUSYBOX_IMAGE, command: SLOW_LINES } })) as any;
  t.ok(dropped, 'the call\'s stream was dropped');
  t.ok(lastEventIds.some((id) => id !== null), 'the client reconnected with Last-Event-ID');
  t.match(res.structuredContent, { success: true, status: 'succeeded', stdout: 'line 1\nline 2\nline 3\nline 4\n' }, 'the run went on');
  t.same(lines, ['line 1', 'line 2', 'line 3', 'line 4'], 'every line once: replayed or live, never twice');
});

t.test('raw: a connection dropped mid-run is not a cancellation; GET with Last-Event-ID replays the rest', async (t) => {
  const session = await rawInitialize(mcpUrl);
  const headers = { 'mcp-session-id': session, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
  t.teardown(() => rawRequest(mcpUrl, { method: 'DELETE', headers }));
  const call = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'execute_docker_container', arguments: { image: BUSYBOX_IMAGE, command: SLOW_LINES } } };

  // Read until the first line, then drop the connection.
  const started = eventually(() => gw.app.slipway.activeRuns.size === 1);
  const first = await rawRequest(mcpUrl, { method: 'POST', headers, body: call, untilText: 'line 1' });
  t.equal(first.status, 200);
  const seen = sseMessages(first.body);
  const lastId = seen[seen.length - 1]!.id!;
  t.ok(lastId, 'events carry ids');
  t.notOk(seen.some((e) => e.message.id === 7), 'no result yet');
  t.ok(await started, 'the run was under way');

  // The run finishes while nobody listens: its session has a call under way, so it is not idle.
  t.ok(await eventually(() => gw.app.slipway.activeRuns.size === 0), 'the run ended with nobody listening');
  t.ok(gw.app.mcpSessions.get(session), 'the session is still there');

  const resumed = await rawRequest(mcpUrl, { method: 'GET', headers: { ...headers, accept: 'text/event-stream', 'last-event-id': lastId }, untilText: '"structuredContent"' });
  t.equal(resumed.status, 200);
  const replayed = sseMessages(resumed.body);
  const replayedLines = replayed.filter((e) => e.message.params?.logger === 'stdout').map((e) => e.message.params.data);
  t.same(replayedLines, ['line 2', 'line 3', 'line 4'], 'exactly the lines missed');
  const result = replayed.find((e) => e.message.id === 7)?.message.result;
  t.match(result?.structuredContent, { success: true, status: 'succeeded', stdout: 'line 1\nline 2\nline 3\nline 4\n' }, 'the result, not a cancellation');
});

t.test('an unknown Last-Event-ID cannot be resumed', async (t) => {
  const session = await rawInitialize(mcpUrl);
  const headers = { 'mcp-session-id': session, accept: 'text/event-stream' };
  t.teardown(() => rawRequest(mcpUrl, { method: 'DELETE', headers }));
  const res = await rawRequest(mcpUrl, { method: 'GET', headers: { ...headers, 'last-event-id': 'f00d_12' } });
  t.equal(res.status, 400);
});
