// Session lifecycle and transport safety at /mcp: 400 without a session, 404 for an
// unknown or ended one, DELETE, idle expiry (memory does not grow with dropped
// sessions), the session cap, and the Origin/Host allow-lists (DNS rebinding).
import t from 'tap';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { connectClient, containerGone, eventually, INITIALIZE, rawInitialize, rawRequest } from '../fixtures/mcp.js';

// Sessions expire after five idle seconds here, so expiry can be watched (idle is time
// without a request: on a loaded machine seconds can pass between a client's requests).
const gw = await startGateway({ SLIPWAY_MCP_SESSION_IDLE_SECONDS: '5' });
t.teardown(() => gw.close());
const mcpUrl = `${gw.url}/mcp`;
const port = new URL(gw.url).port;
const LIST = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };

t.test('a request without a session is 400; an unknown session is 404', async (t) => {
  for (const method of ['POST', 'GET', 'DELETE']) {
    const body = method === 'POST' ? LIST : undefined;
    const missing = await rawRequest(mcpUrl, { method, body });
    t.equal(missing.status, 400, `${method} without Mcp-Session-Id`);
    t.match(JSON.parse(missing.body), { jsonrpc: '2.0', error: { message: /Mcp-Session-Id header is required/ } });
    const unknown = await rawRequest(mcpUrl, { method, body, headers: { 'mcp-session-id': 'e1b7b5e2-3b0c-4a4e-9d1e-000000000000' } });
    t.equal(unknown.status, 404, `${method} with an unknown session`);
    t.match(JSON.parse(unknown.body), { error: { code: -32001, message: 'Session not found' } });
  }
});

t.test('session ids are random UUIDs, one per initialize', async (t) => {
  const ids = await Promise.all(Array.from({ length: 10 }, () => rawInitialize(mcpUrl)));
  t.equal(new Set(ids).size, 10);
  for (const id of ids) t.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  await Promise.all(ids.map((id) => rawRequest(mcpUrl, { method: 'DELETE', headers: { 'mcp-session-id': id } })));
});

t.test('DELETE ends a session: afterwards it is 404 and gone from the map', async (t) => {
  const mcp = await connectClient(gw.url);
  const id = mcp.transport.sessionId!;
  t.ok(gw.app.mcpSessions.get(id), 'registered');
  await mcp.client.listTools();
  await mcp.transport.terminateSession();
  await mcp.client.close();
  t.notOk(gw.app.mcpSessions.get(id), 'forgotten');
  const after = await rawRequest(mcpUrl, { method: 'POST', body: LIST, headers: { 'mcp-session-id': id } });
  t.equal(after.status, 404);
});

t.test('DELETE cancels the calls its session still has running', async (t) => {
  const mcp = await connectClient(gw.url);
  t.teardown(() => mcp.client.close());
  let containerId: string | undefined;
  mcp.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    containerId ??= (n.params.data as { container_id?: string }).container_id;
  });
  const abandon = new AbortController();
  const pending = mcp.client
    .callTool({ name: 'execute_docker_container', arguments: { image: BUSYBOX_IMAGE, command: ['sleep', '60'], timeout: 120 } }, undefined, { signal: abandon.signal })
    .catch(() => undefined);
  t.ok(await eventually(() => containerId !== undefined), 'the run is under way');
  await mcp.transport.terminateSession();
  t.ok(await eventually(() => containerGone(containerId!)), 'its container is gone');
  // The call gets no answer from an ended session; the client gives up on it.
  abandon.abort();
  await pending;
});

t.test('dropped sessions expire when idle and the session map empties', async (t) => {
  // SDK clients that used their session, then vanished without a DELETE, one after the
  // other (clients in this process compete with the gateway for its event loop). Each is
  // checked as soon as it has been used: the first ones may expire while the rest connect.
  const ids: string[] = [];
  let registered = 0;
  for (let i = 0; i < 20; i++) {
    const c = await connectClient(gw.url);
    await c.client.listTools();
    ids.push(c.transport.sessionId!);
    if (gw.app.mcpSessions.get(c.transport.sessionId!)) registered++;
    await c.client.close();
  }
  // ... and raw initializes whose connection simply closed, each checked at once too.
  for (let i = 0; i < 30; i++) {
    const id = await rawInitialize(mcpUrl);
    if (gw.app.mcpSessions.get(id)) registered++;
    ids.push(id);
  }
  t.equal(registered, 50, 'all 50 sessions were opened');

  t.ok(await eventually(() => gw.app.mcpSessions.size === 0, 30_000), 'every dropped session expired');
  const stale = await rawRequest(mcpUrl, { method: 'POST', body: LIST, headers: { 'mcp-session-id': ids[0]! } });
  t.equal(stale.status, 404, 'an expired session is 404, and the client may initialize again');
});

t.test('a connected client and a long call keep their session past the idle timeout', async (t) => {
  const mcp = await connectClient(gw.url);
  t.teardown(() => mcp.close());
  const id = mcp.transport.sessionId!;
  // Longer than the idle timeout: the call under way keeps it alive (an open GET stream alone would not).
  const res = (await mcp.client.callTool({ name: 'execute_docker_container', arguments: { image: BUSYBOX_IMAGE, command: ['sleep', '6'] } })) as any;
  t.match(res.structuredContent, { status: 'succeeded' });
  t.ok(gw.app.mcpSessions.get(id), 'still open');
  const listed = await mcp.client.listTools();
  t.ok(listed.tools.some((tool) => tool.name === 'execute_docker_container'), 'and usable');
});

t.test('a forged Host or Origin is refused with 403, with or without a session', async (t) => {
  const session = await rawInitialize(mcpUrl);
  t.teardown(() => rawRequest(mcpUrl, { method: 'DELETE', headers: { 'mcp-session-id': session } }));
  const cases: [string, Record<string, string>][] = [
    ['forged Host', { host: `evil.example:${port}` }],
    ['forged Host, rebinding a loopback address name', { host: `127.0.0.1.evil.example:${port}` }],
    ['forged Origin', { origin: 'http://evil.example' }],
    ['loopback host, foreign scheme Origin', { origin: `file://` }],
    ['null Origin', { origin: 'null' }],
  ];
  for (const [what, headers] of cases) {
    const init = await rawRequest(mcpUrl, { method: 'POST', body: INITIALIZE, headers });
    t.equal(init.status, 403, `${what}: initialize refused`);
    t.match(JSON.parse(init.body), { jsonrpc: '2.0', error: { code: -32000, message: /^Forbidden: (Host|Origin)/ }, id: null });
    t.notOk(init.headers['mcp-session-id'], `${what}: no session opened`);
    const withSession = await rawRequest(mcpUrl, { method: 'POST', body: LIST, headers: { ...headers, 'mcp-session-id': session } });
    t.equal(withSession.status, 403, `${what}: refused with a valid session too`);
  }
  const browser = await rawRequest(mcpUrl, { method: 'POST', body: LIST, headers: { 'mcp-session-id': session, origin: 'http://localhost:5173', host: `localhost:${port}` } });
  t.equal(browser.status, 200, 'a loopback Origin and Host are allowed');
});

t.test('the allow-lists and the session cap are configurable', async (t) => {
  const custom = await startGateway({
    SLIPWAY_MCP_ALLOWED_HOSTS: 'mcp.example.com',
    SLIPWAY_MCP_ALLOWED_ORIGINS: 'https://app.example.com',
    SLIPWAY_MCP_MAX_SESSIONS: '2',
  });
  t.teardown(() => custom.close());
  const url = `${custom.url}/mcp`;
  const allowed = { host: 'mcp.example.com', origin: 'https://app.example.com' };
  t.equal((await rawRequest(url, { method: 'POST', body: INITIALIZE })).status, 403, 'loopback Host no longer allowed');
  t.equal((await rawRequest(url, { method: 'POST', body: INITIALIZE, headers: { ...allowed, origin: 'http://app.example.com' } })).status, 403, 'the scheme counts');
  await rawInitialize(url, allowed);
  await rawInitialize(url, allowed);
  const third = await rawRequest(url, { method: 'POST', body: INITIALIZE, headers: allowed });
  t.equal(third.status, 503, 'beyond the session cap');
  t.equal(third.headers['retry-after'], '30');
  t.equal(custom.app.mcpSessions.size, 2);
});
