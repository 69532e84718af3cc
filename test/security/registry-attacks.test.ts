// Issue 9: a pull names any registry host and port the caller likes, so the daemon could
// be sent to internal addresses. By default a registry at a loopback, private or
// link-local address (in any spelling) is refused with 403 before the engine is asked;
// SLIPWAY_REGISTRY_ALLOWED_HOSTS opens named hosts. Against the suite's real registry.
import t from 'tap';
import { docker, TEST_INSTANCE } from '../fixtures/docker.js';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { createdSince } from '../fixtures/engine-view.js';
import { PULL_IMAGE, REGISTRY } from '../fixtures/registry.js';

const PORT = REGISTRY.split(':')[1]!;
// The fixture gateway allows the suite's registry; this one is configured as a server is by default.
const gw = await startGateway({ SLIPWAY_INSTANCE: `${TEST_INSTANCE}-registry`, SLIPWAY_REGISTRY_ALLOWED_HOSTS: '' });
t.teardown(() => gw.close());

async function nextRun(): Promise<unknown> {
  return (await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['echo', 'next'] })).body;
}
const NEXT_OK = { status: 'succeeded', stdout: 'next\n' };

/** The engine's pull events for `image` since `sinceMs`: what reached the daemon. */
async function pullsSince(sinceMs: number): Promise<string[]> {
  const stream = await docker.getEvents({ since: Math.floor(sinceMs / 1000) - 1, until: Math.ceil(Date.now() / 1000) + 1, filters: { type: ['image'], event: ['pull'] } });
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8').split('\n').filter((l) => l.includes(`:${PORT}/`));
}

t.test('pulls, image runs and payload images from a loopback registry are refused with 403 naming image and the setting', async (t) => {
  const since = Date.now();
  const spellings = [PULL_IMAGE, `localhost:${PORT}/slipway-test/busybox:pull`, `2130706433:${PORT}/slipway-test/busybox:pull`, `127.1:${PORT}/slipway-test/busybox:pull`, `10.0.0.1:5000/x:1`];
  for (const image of spellings) {
    const res = await gw.request('POST', '/v1/images/pull', { image });
    t.equal(res.status, 403, image);
    t.match(res.body.error, { code: 'SLIPWAY_ERR_POLICY_DENIED', field: 'image', message: /which the server does not allow \(SLIPWAY_REGISTRY_ALLOWED_HOSTS can allow a registry host\)/ });
  }
  const run = await gw.request('POST', '/v1/containers/run', { image: PULL_IMAGE, command: ['true'], pull_policy: 'always' });
  t.match(run, { status: 403, body: { error: { field: 'image' } } }, 'an image run that pulls');
  const payload = await gw.request('POST', '/v1/payloads/run', { image: PULL_IMAGE, command: ['sh', 'main.sh'], files: [{ path: 'main.sh', content: 'true' }], pull_policy: 'always' });
  t.match(payload, { status: 403, body: { error: { field: 'image' } } }, 'a payload image');
  t.strictSame(await pullsSince(since), [], 'the daemon was never sent to the registry');
  t.strictSame(await createdSince(gw.instance, since), [], 'nothing was created');
  t.match(await nextRun(), NEXT_OK, 'the next run works');
});

t.test('a registry host the server allows is pulled from as before', async (t) => {
  const allowing = await startGateway({ SLIPWAY_INSTANCE: `${TEST_INSTANCE}-registry-allowed`, SLIPWAY_REGISTRY_ALLOWED_HOSTS: REGISTRY });
  t.teardown(() => allowing.close());
  const res = await allowing.request('POST', '/v1/images/pull', { image: PULL_IMAGE });
  t.match(res, { status: 200, body: { success: true, image: PULL_IMAGE } });
  t.match(await nextRun(), NEXT_OK, 'the next run works');
});
