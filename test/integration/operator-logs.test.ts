// What an operator reads: one log line per run's end, audit lines that carry the request
// id on both doors, and CORS answering only the origins the operator allowed.
import t from 'tap';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { connectClient } from '../fixtures/mcp.js';

const logLines: string[] = [];
const gw = await startGateway({ SLIPWAY_CORS_ORIGINS: 'https://dash.example.com' }, { logLines });
t.teardown(() => gw.close());
const logged = () => logLines.map((l) => JSON.parse(l));

t.test('a run\'s end is logged once with its id, kind, owner, status, exit code and duration', async (t) => {
  const res = await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'exit 4'] });
  t.equal(res.body.status, 'failed');
  const ends = logged().filter((l) => l.msg === 'run ended' && l.runId === res.body.run_id);
  t.equal(ends.length, 1, 'exactly one line');
  t.match(ends[0], { kind: 'image', owner: null, status: 'failed', exitCode: 4, durationSeconds: Number });
});

t.test('a REST audit line carries the id of its request, as the request\'s own log lines do', async (t) => {
  const res = await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['true'] });
  await new Promise((r) => setTimeout(r, 50));
  const audit = logged().find((l) => l.audit && l.run_id === res.body.run_id);
  t.match(audit, { op: 'POST /v1/containers/run', request_id: /^req-/ });
  const incoming = logged().find((l) => l.reqId === audit.request_id && l.msg === 'incoming request');
  t.match(incoming, { req: { url: '/v1/containers/run' } }, 'the same id as Fastify\'s line for that request');
});

t.test('an MCP audit line carries the HTTP request id and the JSON-RPC id of the call', async (t) => {
  const mcp = await connectClient(gw.url);
  t.teardown(() => mcp.close());
  const res = (await mcp.client.callTool({ name: 'execute_docker_container', arguments: { image: BUSYBOX_IMAGE, command: ['true'] } })) as any;
  const runId = res.structuredContent.run_id;
  await new Promise((r) => setTimeout(r, 50));
  const audit = logged().find((l) => l.audit && l.run_id === runId);
  t.match(audit, { op: 'mcp tools/call execute_docker_container', request_id: /^req-/, rpc_id: Number });
  t.ok(logged().some((l) => l.reqId === audit.request_id && l.req?.url === '/mcp'), 'the id of the POST /mcp that carried the call');
});

t.test('CORS: an allowed origin may read answers; any other origin gets no CORS headers', async (t) => {
  const preflight = await fetch(`${gw.url}/v1/runs`, {
    method: 'OPTIONS',
    headers: { origin: 'https://dash.example.com', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
  });
  t.equal(preflight.status, 204);
  t.equal(preflight.headers.get('access-control-allow-origin'), 'https://dash.example.com');
  t.match(preflight.headers.get('access-control-allow-headers'), /authorization/);
  const allowed = await fetch(`${gw.url}/v1/runs`, { headers: { origin: 'https://dash.example.com' } });
  t.equal(allowed.headers.get('access-control-allow-origin'), 'https://dash.example.com');
  const other = await fetch(`${gw.url}/v1/runs`, { headers: { origin: 'https://evil.example.net' } });
  t.equal(other.headers.get('access-control-allow-origin'), null);
});

t.test('CORS is off by default: no origin is allowed', async (t) => {
  const plain = await startGateway();
  t.teardown(() => plain.close());
  const res = await fetch(`${plain.url}/v1/runs`, { headers: { origin: 'https://dash.example.com' } });
  t.equal(res.status, 200);
  t.equal(res.headers.get('access-control-allow-origin'), null);
});
