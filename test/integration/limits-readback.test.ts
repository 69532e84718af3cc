// Limits read back after create, on the real Docker engine: a hardened run passes the
// check, and an engine that drops limits (a proxy answering inspect without them, as
// rootless Podman on cgroup v1 would) gets the run refused, recorded `error`, and its
// container removed from the real engine.
import t from 'tap';
import { TEST_INSTANCE, docker } from '../fixtures/docker.js';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { startLimitDroppingProxy } from '../fixtures/limit-dropping-proxy.js';
import { LABEL_INSTANCE } from '../../lib/labels.js';

const run = { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max'], memory_limit: '64m', cpu_limit: 0.5, pids_limit: 40 };

t.test('on Docker, which keeps every limit, a hardened run passes the check and runs', async (t) => {
  const gw = await startGateway();
  t.teardown(() => gw.close());
  const res = await gw.request('POST', '/v1/containers/run', run);
  t.match(res.body, { status: 'succeeded', stdout: '40\n' });
  t.match((await gw.request('POST', '/v1/containers/run', run)).body, { status: 'succeeded' }, 'and again, on the remembered verdict');
});

t.test('an engine that dropped memory, CPU and pids limits: refused before start, recorded error, container removed', async (t) => {
  const proxy = await startLimitDroppingProxy();
  t.teardown(() => proxy.close());
  const instance = `${TEST_INSTANCE}-limits`;
  const gw = await startGateway({ DOCKER_HOST: proxy.dockerHost, SLIPWAY_INSTANCE: instance });
  t.teardown(() => gw.close());
  for (const attempt of ['first', 'second']) {
    const res = await gw.request('POST', '/v1/containers/run', run);
    t.equal(res.status, 502, attempt);
    t.match(res.body.error, {
      code: 'SLIPWAY_ERR_ENGINE_LIMITS',
      message: /did not apply limits this run requires, so it was not started: memory \(asked 67108864, the engine reports 0\), memory\+swap .*, cpu \(asked 500000000, the engine reports 0\), pids \(asked 40, the engine reports 0\)$/,
    }, `${attempt}: names each dropped limit`);
  }
  const runs = (await gw.request('GET', '/v1/runs')).body.runs;
  t.equal(runs.length, 2);
  for (const r of runs) {
    t.match((await gw.request('GET', `/v1/runs/${r.run_id}`)).body, { status: 'error', error_message: /^the Docker engine did not apply limits/ });
  }
  t.same(await docker.listContainers({ all: true, filters: { label: [`${LABEL_INSTANCE}=${instance}`] } }), [], 'the real engine has no container of it');
});
