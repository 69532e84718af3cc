// A pull that fails says which image and why, on both doors and in the run record:
// the engine's reason (a name that does not resolve, a registry that refuses the
// connection), not "engine error: server error". Real engine, real failing registries.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { docker } from '../fixtures/docker.js';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { connectClient } from '../fixtures/mcp.js';
import { REGISTRY, pushToRegistry } from '../fixtures/registry.js';

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

t.test('a run whose pull failed does not pin its idempotency key: the retry runs once the image exists', async (t) => {
  const image = `${REGISTRY}/slipway-test/retry-${randomBytes(4).toString('hex')}:1`;
  t.teardown(() => docker.getImage(image).remove({ noprune: true }).catch(() => undefined));
  const key = { 'idempotency-key': `retry-${image}` };
  const body = { image, command: ['echo', 'ran on retry'] };
  const first = await gw.request('POST', '/v1/containers/run', body, key);
  t.match(first, { status: 404, body: { error: { code: 'SLIPWAY_ERR_IMAGE_NOT_FOUND', field: 'image' } } });
  await pushToRegistry(docker, BUSYBOX_IMAGE, image);
  const retried = await gw.request('POST', '/v1/containers/run', body, key);
  t.match(retried, { status: 200, body: { status: 'succeeded', stdout: 'ran on retry\n' } });
  const replayed = await gw.request('POST', '/v1/containers/run', body, key);
  t.match(replayed, { status: 200, body: { run_id: retried.body.run_id } }, 'the run that ran is the one the key now names');
});

t.test('a retry of a failed pull with the same key answers the failure with its status code, not a 200', async (t) => {
  const key = { 'idempotency-key': `refused-${randomBytes(4).toString('hex')}` };
  for (const attempt of ['first', 'retry']) {
    const res = await gw.request('POST', '/v1/containers/run', { image: REFUSED, command: ['true'] }, key);
    t.match(res, { status: 502, body: { error: { code: 'SLIPWAY_ERR_PULL_FAILED' } } }, attempt);
  }
});
