// Runs under gVisor (SLIPWAY_RUNTIME=runsc, or a token's `runtime` policy) where the
// engine has it: the suite's before hook registers Debian's runsc on a local engine.
// Where it cannot, each test reports a skip with the reason: nothing here passes unchecked.
import t from 'tap';
import { startGateway } from '../fixtures/gateway.js';
import { hasRuntime } from '../fixtures/gvisor.js';
import { docker } from '../fixtures/docker.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { waitFor } from '../fixtures/wait.js';

const skip = (await hasRuntime('runsc')) ? false : 'the engine has no runsc runtime (the before hook registers it when it runs as root on a local Debian engine)';
const gw = skip ? undefined : await startGateway({ SLIPWAY_RUNTIME: 'runsc' });
if (gw) t.teardown(() => gw.close());

t.test('a payload runs under gVisor with the hardened settings', { skip }, async (t) => {
  const res = await gw!.request('POST', '/v1/payloads/run', { language: 'python', payload: 'import os\nprint(2 + 2, os.getuid())\nprint(open("/proc/version").read().strip())' });
  t.match(res.body, { status: 'succeeded', stdout: /^4 65534\n/ });
  const kernel = await gw!.request('POST', '/v1/payloads/run', { language: 'sh', payload: 'dmesg | head -1' });
  t.match(kernel.body.stdout, /Starting gVisor/, 'the guest kernel is gVisor\'s');
});

t.test('the engine records the runtime on the container', { skip }, async (t) => {
  const { body } = await gw!.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['sleep', '20'], wait: false });
  const containerId: string = await waitFor(async () => (await gw!.request('GET', `/v1/runs/${body.run_id}`)).body.container_id, { what: 'the run\'s container id' });
  const info = await docker.getContainer(containerId).inspect();
  t.equal(info.HostConfig.Runtime, 'runsc');
  t.equal(info.HostConfig.ReadonlyRootfs, true);
  await gw!.request('DELETE', `/v1/runs/${body.run_id}`);
});
