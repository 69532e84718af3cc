// SSE polling on /mcp (2025-11-25): POST streams open with a priming event that carries
// `retry`; the server closes the stream of a long tool call, the call goes on, and a GET
// with Last-Event-ID delivers its result. Proxies that cut long responses lose nothing.
import t from 'tap';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { connectClient, rawInitialize, rawRequest, sseMessages } from '../fixtures/mcp.js';

const gw = await startGateway({ SLIPWAY_MCP_STREAM_CLOSE_SECONDS: '1', SLIPWAY_MCP_SSE_RETRY_MS: '300', SLIPWAY_MCP_CONFORMANCE_TOOLS: 'true' });
t.teardown(() => gw.close());
const mcpUrl = `${gw.url}/mcp`;
// Outlasts the 1 s after which the server closes the call's stream.
const LONG_RUN = ['sh', '-c', 'echo begin; sleep 3; echo done'];
const callOf = (id: number, command: string[]) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'execute_docker_container', arguments: { image: BUSYBOX_IMAGE, command } } });

t.test('a POST stream opens with a priming event: an id, the retry interval and empty data', async (t) => {
  const session = await rawInitialize(mcpUrl);
  const headers = { 'mcp-session-id': session, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
  t.teardown(() => rawRequest(mcpUrl, { method: 'DELETE', headers }));
  const res = await rawRequest(mcpUrl, { method: 'POST', headers, body: { jsonrpc: '2.0', id: 2, method: 'tools/list' } });
  t.equal(res.status, 200);
  t.match(res.headers['content-type'], /text\/event-stream/);
  t.match(res.body, /^id: \S+\nretry: 300\ndata: \n\n/, 'the first event primes the stream');
  t.ok(sseMessages(res.body).find((e) => e.message.id === 2)?.message.result.tools, 'then the answer, on the same stream');
});

t.test('the server closes a long call\'s stream; GET with Last-Event-ID resumes it and receives the result', async (t) => {
  const session = await rawInitialize(mcpUrl);
  const headers = { 'mcp-session-id': session, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
  t.teardown(() => rawRequest(mcpUrl, { method: 'DELETE', headers }));

  // Read the POST stream to its end: the server ends it while the run still sleeps.
  const post = await rawRequest(mcpUrl, { method: 'POST', headers, body: callOf(3, LONG_RUN) });
  t.equal(post.status, 200);
  t.notOk(sseMessages(post.body).some((e) => e.message.id === 3), 'the stream ended before the result');
  const ids = [...post.body.matchAll(/^id: (\S+)$/gm)].map((m) => m[1]!);
  t.ok(ids.length >= 1, 'the stream carried event ids to resume from');

  const resumed = await rawRequest(mcpUrl, {
    method: 'GET',
    headers: { ...headers, accept: 'text/event-stream', 'last-event-id': ids.at(-1)! },
    untilText: '"structuredContent"',
  });
  t.equal(resumed.status, 200);
  const result = sseMessages(resumed.body).find((e) => e.message.id === 3)?.message.result;
  t.match(result?.structuredContent, { success: true, status: 'succeeded', stdout: 'begin\ndone\n' }, 'the run went on without a stream: its whole result, not a cancellation');
});

t.test('the SDK client follows a closed stream by itself and gets the long call\'s result', async (t) => {
  const resumedWith: string[] = [];
  const recordingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const lastEventId = new Headers(init?.headers).get('last-event-id');
    if (init?.method === 'GET' && lastEventId !== null) resumedWith.push(lastEventId);
    return fetch(input, init);
  };
  const mcp = await connectClient(gw.url, { fetch: recordingFetch });
  t.teardown(() => mcp.close());
  const res = (await mcp.client.callTool({ name: 'execute_docker_container', arguments: { image: BUSYBOX_IMAGE, command: LONG_RUN } })) as any;
  t.ok(resumedWith.length >= 1, 'the client reconnected with Last-Event-ID');
  t.match(res.structuredContent, { success: true, status: 'succeeded', stdout: 'begin\ndone\n' });
});

t.test('the conformance suite\'s test_reconnection tool outlasts the stream close and answers on the resumed stream', async (t) => {
  const session = await rawInitialize(mcpUrl);
  const headers = { 'mcp-session-id': session, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
  t.teardown(() => rawRequest(mcpUrl, { method: 'DELETE', headers }));
  const call = { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'test_reconnection', arguments: {} } };
  const post = await rawRequest(mcpUrl, { method: 'POST', headers, body: call });
  t.match(post.body, /^id: \S+\nretry: 300\ndata: \n\n$/, 'only the priming event before the close');
  const lastId = /^id: (\S+)$/m.exec(post.body)![1]!;
  const resumed = await rawRequest(mcpUrl, { method: 'GET', headers: { ...headers, accept: 'text/event-stream', 'last-event-id': lastId }, untilText: '"structuredContent"' });
  t.match(sseMessages(resumed.body).find((e) => e.message.id === 4)?.message.result, { isError: undefined, structuredContent: { waited_ms: 2000 } });
});
