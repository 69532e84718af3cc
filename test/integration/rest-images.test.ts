// POST /v1/images/pull against the local registry (TESTING.md): a real pull, and real failures.
import t from 'tap';
import { startGateway } from '../fixtures/gateway.js';
import { docker, TEST_INSTANCE } from '../fixtures/docker.js';
import { PULL_IMAGE, REGISTRY } from '../fixtures/registry.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';

const gw = await startGateway({ SLIPWAY_INSTANCE: `${TEST_INSTANCE}-images` });
t.teardown(() => gw.close());

async function removeLocal(ref: string): Promise<void> {
  await docker.getImage(ref).remove({ noprune: true }).catch((err: { statusCode?: number }) => {
    if (err.statusCode !== 404) throw err;
  });
}

t.test('pulls an image the engine does not have from the registry', async (t) => {
  await removeLocal(PULL_IMAGE);
  const res = await gw.request('POST', '/v1/images/pull', { image: PULL_IMAGE });
  t.equal(res.status, 200);
  t.match(res.body, { success: true, image: PULL_IMAGE, image_id: /^sha256:[0-9a-f]{64}$/, digest: /^sha256:[0-9a-f]{64}$/ });
  t.type(res.body.pull_time, 'number');
  const info = await docker.getImage(PULL_IMAGE).inspect();
  t.equal(info.Id, res.body.image_id, 'the engine has it now');
});

t.test('a run with pull_policy missing pulls the image first', async (t) => {
  await removeLocal(PULL_IMAGE);
  const res = await gw.request('POST', '/v1/containers/run', { image: PULL_IMAGE, command: ['echo', 'pulled and ran'] });
  t.match(res.body, { success: true, stdout: 'pulled and ran\n' });
});

t.test('a tag without an explicit tag means latest', async (t) => {
  const res = await gw.request('POST', '/v1/images/pull', { image: `${REGISTRY}/slipway-test/busybox` });
  t.equal(res.status, 404, 'no :latest was pushed');
  t.match(res.body.error, { code: 'SLIPWAY_ERR_IMAGE_NOT_FOUND', field: 'image', message: /slipway-test\/busybox:latest/ });
});

t.test('an unknown repository or tag is a 404 naming the image', async (t) => {
  for (const image of [`${REGISTRY}/slipway-test/busybox:no-such-tag`, `${REGISTRY}/nobody/nothing:1`]) {
    const res = await gw.request('POST', '/v1/images/pull', { image });
    t.equal(res.status, 404, image);
    t.match(res.body.error, { code: 'SLIPWAY_ERR_IMAGE_NOT_FOUND', field: 'image' });
  }
});

t.test('an unreachable registry is a 502 naming the image and the reason, not a hang or a 500', async (t) => {
  const res = await gw.request('POST', '/v1/images/pull', { image: '127.0.0.1:1/slipway-test/busybox:1' });
  t.equal(res.status, 502);
  t.match(res.body.error, { code: 'SLIPWAY_ERR_PULL_FAILED', field: 'image', message: /^cannot pull 127\.0\.0\.1:1\/slipway-test\/busybox:1: .*connection refused/ });
});

t.test('a hostile image reference never reaches the engine', async (t) => {
  for (const image of ['busybox;rm -rf /', 'busybox:1 --privileged', '$(id)', 'UPPER/case', '../x']) {
    const res = await gw.request('POST', '/v1/images/pull', { image });
    t.equal(res.status, 400, image);
    t.match(res.body.error, { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'image' });
  }
  t.ok(BUSYBOX_IMAGE);
});
