// Tokens on the MCP door: 401 without one, tools listed and callable by scope,
// a session usable only by the token that opened it, runs private to their token.
import t from 'tap';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { connectClient, INITIALIZE, rawRequest } from '../fixtures/mcp.js';
import { bearer, writeTokensFile } from '../fixtures/tokens.js';

const tokensFile = await writeTokensFile([
  { name: 'agent', token: 'agent-token', scopes: ['run', 'read'] },
  { name: 'other', token: 'other-token', scopes: ['run', 'read'] },
  { name: 'viewer', token: 'viewer-token', scopes: ['read'] },
]);
const gw = await startGateway({ SLIPWAY_TOKENS_FILE: tokensFile });
t.teardown(() => gw.close());
const withToken = (token: string) => ({ requestInit: { headers: bearer(token) } });

t.test('no token: 401 with WWW-Authenticate before any session exists', async (t) => {
  const res = await rawRequest(`${gw.url}/mcp`, { method: 'POST', body: INITIALIZE });
  t.equal(res.status, 401);
  t.equal(res.headers['www-authenticate'], 'Bearer realm="slipway"');
  t.equal(gw.app.mcpSessions.size, 0, 'no session was opened');
  await t.rejects(connectClient(gw.url), 'the SDK client cannot connect without a token');
});

t.test('tools are listed and callable by scope', async (t) => {
  const viewer = await connectClient(gw.url, withToken('viewer-token'));
  t.teardown(() => viewer.close());
  const { tools } = await viewer.client.listTools();
  t.same(tools.map((tool) => tool.name).sort(), ['get_run', 'get_run_logs', 'get_sandbox', 'get_server_info', 'list_languages', 'list_running_containers', 'list_runs', 'list_sandboxes', 'sandbox_list_files', 'sandbox_read_file']);
  const refused = (await viewer.client.callTool({ name: 'execute_docker_container', arguments: { image: BUSYBOX_IMAGE, command: ['true'] } })) as any;
  t.equal(refused.isError, true);
  t.match(refused.content[0].text, /SLIPWAY_ERR_SCOPE_MISSING: this token lacks the "run" scope/);
});

t.test('a run is private to its token; a session to the token that opened it', async (t) => {
  const agent = await connectClient(gw.url, withToken('agent-token'));
  t.teardown(() => agent.close());
  const res = (await agent.client.callTool({ name: 'execute_docker_container', arguments: { image: BUSYBOX_IMAGE, command: ['echo', 'mine'] } })) as any;
  t.match(res.structuredContent, { status: 'succeeded', stdout: 'mine\n' });
  const other = await connectClient(gw.url, withToken('other-token'));
  t.teardown(() => other.close());
  const peek = (await other.client.callTool({ name: 'get_run', arguments: { run_id: res.structuredContent.run_id } })) as any;
  t.equal(peek.isError, true);
  t.match(peek.content[0].text, /SLIPWAY_ERR_RUN_NOT_FOUND/);

  const hijack = await rawRequest(`${gw.url}/mcp`, {
    method: 'POST',
    headers: { ...bearer('other-token'), 'mcp-session-id': agent.transport.sessionId!, 'mcp-protocol-version': '2025-06-18' },
    body: { jsonrpc: '2.0', id: 9, method: 'tools/list', params: {} },
  });
  t.equal(hijack.status, 404, 'another token cannot use the session');
});
