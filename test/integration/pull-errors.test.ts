// A pull that fails says which image and why, on both doors and in the run record:
// the engine's reason (a name that does not resolve, a registry that refuses the
// connection), not "engine error: server error". Real engine, real failing registries.
import t from 'tap';
import { startGateway } from '../fixtures/gateway.js';
import { connectClient } from '../fixtures/mcp.js';

/** A registry name that never resolves (.invalid is reserved) and a loopback port nothing listens on. */
const UNRESOLVABLE = 'nonexistent.invalid/slipway-test/x:1';
const REFUSED = '127.0.0.1:1/slipway-test/x:1';

const gw = await startGateway({ SLIPWAY_LANGUAGE_PRESETS: JSON.stringify({ python: { image: REFUSED } }) });
const mcp = await connectClient(gw.url);
t.teardown(async () => {
  await mcp.close();
  await gw.close();
});

const cannotPull = (image: string, reason: RegExp) => ({ code: 'SLIPWAY_ERR_PULL_FAILED', field: 'image', message: new RegExp(`^cannot pull ${image.replace(/[.]/g, '\\.')}: .*${reason.source}`) });

t.test('pulling from a registry whose name does not resolve is a 502 that gives the engine\'s reason', async (t) => {
  const res = await gw.request('POST', '/v1/images/pull', { image: UNRESOLVABLE });
  t.equal(res.status, 502);
  t.match(res.body.error, cannotPull(UNRESOLVABLE, /no such host/));
  t.notMatch(res.body.error.message, /server error/, 'not the HTTP status text');
});

t.test('pulling from a registry that refuses the connection says so', async (t) => {
  const res = await gw.request('POST', '/v1/images/pull', { image: REFUSED });
  t.equal(res.status, 502);
  t.match(res.body.error, cannotPull(REFUSED, /connection refused/));
});

t.test('an image run whose pull fails answers the reason and records it in the run', async (t) => {
  const res = await gw.request('POST', '/v1/containers/run', { image: UNRESOLVABLE, command: ['true'] });
  t.equal(res.status, 502);
  t.match(res.body.error, cannotPull(UNRESOLVABLE, /no such host/));
  const runs = await gw.request('GET', '/v1/runs?limit=1');
  t.match(runs.body.runs[0], { image: UNRESOLVABLE, status: 'error', error_message: /^cannot pull nonexistent\.invalid\/slipway-test\/x:1: .*no such host/ });
});

t.test('a language preset pointed at an unpullable image names that image and the reason', async (t) => {
  const res = await gw.request('POST', '/v1/payloads/run', { language: 'python', payload: 'print(1)' });
  t.equal(res.status, 502);
  t.match(res.body.error, cannotPull(REFUSED, /connection refused/));
});

t.test('the MCP tools answer the same reason as a tool error', async (t) => {
  const pulled = (await mcp.client.callTool({ name: 'pull_docker_image', arguments: { image: REFUSED } })) as any;
  t.equal(pulled.isError, true);
  t.match(pulled.content[0].text, /^SLIPWAY_ERR_PULL_FAILED: cannot pull 127\.0\.0\.1:1\/slipway-test\/x:1: .*connection refused/);
  t.match(pulled._meta['io.slipway/error'], { code: 'SLIPWAY_ERR_PULL_FAILED', field: 'image' });
  const ran = (await mcp.client.callTool({ name: 'execute_docker_container', arguments: { image: UNRESOLVABLE, command: ['true'] } })) as any;
  t.equal(ran.isError, true);
  t.match(ran.content[0].text, /^SLIPWAY_ERR_PULL_FAILED: cannot pull nonexistent\.invalid\/slipway-test\/x:1: .*no such host/);
});
