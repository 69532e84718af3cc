// Shared capacity that one caller could take (issue #9), on the MCP door: the session
// table, sessions kept alive by open streams, JSON-RPC batches past the rate limit,
// and log pages that cost the whole log. Each attack runs against a real gateway and
// engine, and is followed by another caller's normal request, which must be served.
import t, { type Test } from 'tap';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { connectClient, INITIALIZE, rawInitialize, rawRequest } from '../fixtures/mcp.js';
import { bearer, writeTokensFile } from '../fixtures/tokens.js';

const NOBODY = 'nobody-secret-token';
const GREEDY = 'greedy-secret-token';
const ALICE = 'alice-secret-token';
const tokensFile = await writeTokensFile([
  { name: 'nobody', token: NOBODY, scopes: [] },
  { name: 'greedy', token: GREEDY, scopes: ['read'] },
  { name: 'alice', token: ALICE, scopes: ['run', 'read'] },
]);
const gw = await startGateway({ SLIPWAY_TOKENS_FILE: tokensFile, SLIPWAY_MCP_MAX_SESSIONS: '5', SLIPWAY_MCP_MAX_SESSIONS_PER_CALLER: '2' });
t.teardown(() => gw.close());
const mcpUrl = `${gw.url}/mcp`;

/** Another caller connects and runs a tool: it must still be served. */
async function aliceIsServed(t: Test, url = gw.url, headers: Record<string, string> = bearer(ALICE)): Promise<void> {
  const alice = await connectClient(url, { requestInit: { headers } });
  t.teardown(() => alice.close());
  const res = (await alice.client.callTool({ name: 'execute_docker_container', arguments: { image: BUSYBOX_IMAGE, command: ['echo', 'served'] } })) as any;
  t.match(res.structuredContent, { status: 'succeeded', stdout: 'served\n' }, 'another caller connects and runs a tool');
}

const endSession = (id: string, headers: Record<string, string>) => rawRequest(mcpUrl, { method: 'DELETE', headers: { ...headers, 'mcp-session-id': id } });

t.test('a token cannot fill the session table: none without scopes, a few per token, and others still get in', async (t) => {
  const none = await rawRequest(mcpUrl, { method: 'POST', body: INITIALIZE, headers: bearer(NOBODY) });
  t.equal(none.status, 403, 'a token with no scopes opens no session');
  t.match(JSON.parse(none.body), { error: { message: /no scopes/ } });
  const held = [await rawInitialize(mcpUrl, bearer(GREEDY)), await rawInitialize(mcpUrl, bearer(GREEDY))];
  t.teardown(() => Promise.all(held.map((id) => endSession(id, bearer(GREEDY)))));
  for (let i = 0; i < 5; i++) {
    const beyond = await rawRequest(mcpUrl, { method: 'POST', body: INITIALIZE, headers: bearer(GREEDY) });
    t.equal(beyond.status, 429, `initialize ${i + 3} of one token is refused`);
    t.ok(Number(beyond.headers['retry-after']) > 0, 'with Retry-After');
  }
  t.equal(gw.app.mcpSessions.size, 2, 'the table holds only what the token may hold');
  await aliceIsServed(t);
});

t.test('an open stream does not keep a session alive: it expires when idle, its stream is closed, and a new one opens', async (t) => {
  const idle = await startGateway({ SLIPWAY_MCP_SESSION_IDLE_SECONDS: '2' });
  t.teardown(() => idle.close());
  const url = `${idle.url}/mcp`;
  const session = await rawInitialize(url);
  const headers = { 'mcp-session-id': session, 'mcp-protocol-version': INITIALIZE.params.protocolVersion };
  await rawRequest(url, { method: 'POST', body: { jsonrpc: '2.0', method: 'notifications/initialized' }, headers });
  // The GET stream stays open until the server ends it; the test bounds the wait.
  const stream = rawRequest(url, { method: 'GET', headers: { ...headers, accept: 'text/event-stream' } });
  const ended = await Promise.race([stream.then((res) => res.status), new Promise((resolve) => setTimeout(() => resolve('still open'), 15_000).unref())]);
  t.equal(ended, 200, 'the stream was open, and the session\'s expiry closed it');
  t.notOk(idle.app.mcpSessions.get(session), 'the session is gone');
  const stale = await rawRequest(url, { method: 'POST', body: { jsonrpc: '2.0', id: 2, method: 'tools/list' }, headers });
  t.equal(stale.status, 404, 'and answers 404');
  await aliceIsServed(t, idle.url, {});
});

t.test('a JSON-RPC batch is refused whole: no call in it runs, so none slips past the rate limit', async (t) => {
  const alice = await connectClient(gw.url, { requestInit: { headers: bearer(ALICE) } });
  t.teardown(() => alice.close());
  const before = (await gw.request('GET', '/v1/runs?limit=100', undefined, bearer(ALICE))).body.runs.length;
  const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'execute_docker_container', arguments: { image: BUSYBOX_IMAGE, command: ['true'] } } });
  const batch = await rawRequest(mcpUrl, {
    method: 'POST',
    body: Array.from({ length: 20 }, (_, i) => call(i + 10)),
    headers: { ...bearer(ALICE), 'mcp-session-id': alice.transport.sessionId!, 'mcp-protocol-version': INITIALIZE.params.protocolVersion },
  });
  t.equal(batch.status, 400);
  t.match(JSON.parse(batch.body), { jsonrpc: '2.0', error: { code: -32600, message: /batches are not accepted/ }, id: null });
  const after = (await gw.request('GET', '/v1/runs?limit=100', undefined, bearer(ALICE))).body.runs.length;
  t.equal(after, before, 'no run was started');
  await aliceIsServed(t);
});

t.test('pages of a long run log are read through its index: each page is right, to the end', async (t) => {
  const alice = await connectClient(gw.url, { requestInit: { headers: bearer(ALICE) } });
  t.teardown(() => alice.close());
  const script = 'i=0; while [ $i -lt 3000 ]; do echo "line $i"; i=$((i+1)); done';
  const ran = (await alice.client.callTool({ name: 'execute_docker_container', arguments: { image: BUSYBOX_IMAGE, command: ['sh', '-c', script] } })) as any;
  t.equal(ran.structuredContent.status, 'succeeded');
  const runId = ran.structuredContent.run_id as string;
  const page = async (after: number, limit: number) =>
    ((await alice.client.callTool({ name: 'get_run_logs', arguments: { run_id: runId, after_event_id: after, limit } })) as any).structuredContent;
  const all: any[] = [];
  for (let after = 0, done = false; !done; ) {
    const p = await page(after, 50);
    all.push(...p.events);
    after = p.last_event_id;
    done = p.complete || p.events.length === 0;
  }
  t.strictSame(all.map((e) => e.id), all.map((_, i) => i + 1), 'every event once, in order');
  t.equal(all.at(-1).type, 'end');
  const output = all.filter((e) => e.type === 'stdout').map((e) => e.data).join('');
  t.ok(output.startsWith('line 0\n') && output.endsWith('line 2999\n'), 'the whole output');
  const index = join(gw.dataDir, 'logs', `${runId}.ndjson.idx`);
  t.ok(existsSync(index), 'the log has an index beside it');
  t.equal(statSync(index).size, 16 * Math.ceil(all.length / 64), 'an entry every 64 events');
  const last = await page(all.length - 3, 50);
  t.strictSame(last.events.map((e: any) => e.id), [all.length - 2, all.length - 1, all.length], 'a page from near the end');
  await aliceIsServed(t);
});
