// Issue 9, "sandbox bounds that did not bound", row by row against the real engine:
// every writable place of a run is bounded, and every limit stays a limit after its
// conversion to engine units. Each attack is followed by a normal request.
import t from 'tap';
import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { docker, followProgress, TEST_INSTANCE } from '../fixtures/docker.js';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { pollUntilFinal, pollUntilRunning } from '../fixtures/runs.js';
import { waitUntilGone } from '../fixtures/engine-view.js';

const INSTANCE = `${TEST_INSTANCE}-bounds`;
const gw = await startGateway({ SLIPWAY_INSTANCE: INSTANCE });
t.teardown(() => gw.close());

const sh = (script: string, extra: Record<string, unknown> = {}) => gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['sh', '-c', script], ...extra });
async function nextRun(): Promise<unknown> {
  return (await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['echo', 'next'] })).body;
}
const NEXT_OK = { status: 'succeeded', stdout: 'next\n' };

/** Holds a running container until the test lets it go: `until [ -e /tmp/go ]`. */
const HOLD = 'until [ -e /tmp/go ]; do sleep 0.1; done';
async function release(containerId: string): Promise<void> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: ['touch', '/tmp/go'] });
  const stream = await exec.start({});
  stream.resume();
  await new Promise((resolve) => stream.on('end', resolve));
}

t.test('a payload file mode of 0777 grants nothing beyond the run\'s own user, and growing the workspace stops at its bound', async (t) => {
  const script = [
    'stat -c "%a %u %n" /workspace /workspace/main.sh /workspace/data /workspace/data/log',
    'echo more >> /workspace/data/log && echo appended',
    'dd if=/dev/zero of=/workspace/new bs=1M count=100 2>/dev/null || echo "stopped at the bound"',
    'true',
  ].join('; ');
  const res = await gw.request('POST', '/v1/payloads/run', {
    image: BUSYBOX_IMAGE,
    command: ['sh', '-c', script],
    memory_limit: '64m',
    files: [
      { path: 'main.sh', content: 'echo hi\n', mode: 0o777 },
      { path: 'data/log', content: '', mode: 0o666 },
    ],
  });
  t.equal(res.status, 200);
  t.match(res.body, { status: 'succeeded' });
  const modes = res.body.stdout.split('\n').filter((l: string) => /^\d+ \d+ \//.test(l));
  t.strictSame(modes, ['755 65534 /workspace', '755 65534 /workspace/main.sh', '755 65534 /workspace/data', '644 65534 /workspace/data/log'], 'the run user\'s; only the x bit of the mode honoured, never group or world write');
  t.match(res.body.stdout, /appended\nstopped at the bound\n/, 'its own files are writable; the workspace is not unbounded');
  t.match(await nextRun(), NEXT_OK, 'the next run works');
});

t.test('an image that declares a VOLUME gets a bounded tmpfs there: ENOSPC inside, no anonymous volume on host disk', async (t) => {
  const image = `slipway-test/volume-image:${INSTANCE}`;
  await buildVolumeImage(image);
  t.teardown(() => docker.getImage(image).remove({ force: true }));

  const start = await sh(`dd if=/dev/zero of=/data/fill bs=1M count=200; echo "exit $?"; ${HOLD}`, { image, wait: false });
  t.equal(start.status, 202);
  const running = await pollUntilRunning(gw, start.body.run_id);
  const info = await docker.getContainer(running.container_id).inspect();
  t.strictSame(info.Mounts.filter((m) => m.Type === 'volume'), [], 'no volume of any kind, anonymous or not');
  t.equal(info.HostConfig.Tmpfs?.['/data'], 'rw,nosuid,nodev,size=64m', 'the declared path is a tmpfs bounded like /tmp');
  await release(running.container_id);
  const final = await pollUntilFinal(gw, start.body.run_id);
  t.match(final.stderr, /No space left on device/);
  t.match(final.stdout, /^exit 1$/m, 'the write past the bound failed inside the container');
  t.ok(await waitUntilGone(running.container_id), 'container gone');
  const volumes = (await docker.listVolumes()).Volumes ?? [];
  t.notOk(volumes.some((v) => info.Mounts.some((m) => m.Name === v.Name)), 'no volume left behind');
  t.match(await nextRun(), NEXT_OK, 'the next run works');
});

t.test('a cpu_limit too small to be enforced is refused naming the field and the range; the smallest accepted one is a real engine limit', async (t) => {
  for (const cpu_limit of [0.0000001, 1e-12, 0.009]) {
    const res = await sh('true', { cpu_limit });
    t.equal(res.status, 400, `cpu_limit ${cpu_limit}`);
    t.match(res.body.error, { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'cpu_limit', message: /cpu_limit must be >= 0\.01/ });
  }
  const tinyTimeout = await sh('true', { timeout: 0.0000001 });
  t.match(tinyTimeout, { status: 400, body: { error: { field: 'timeout', message: /timeout must be >= 0\.001/ } } });

  const start = await sh(HOLD, { cpu_limit: 0.01, wait: false });
  const running = await pollUntilRunning(gw, start.body.run_id);
  const { HostConfig } = await docker.getContainer(running.container_id).inspect();
  t.equal(HostConfig.NanoCpus, 10_000_000, 'the engine holds a non-zero CPU limit');
  t.ok((HostConfig.PidsLimit ?? 0) > 0 && HostConfig.Memory! > 0, 'and non-zero pids and memory limits');
  await release(running.container_id);
  t.match(await pollUntilFinal(gw, start.body.run_id), { status: 'succeeded' });
  t.match(await nextRun(), NEXT_OK, 'the next run works');
});

/** The busybox test image plus `VOLUME /data`, labelled as this suite's so the leak check sees it if left. */
async function buildVolumeImage(tag: string): Promise<void> {
  const pack = tarStream.pack();
  pack.entry({ name: 'Dockerfile' }, `FROM ${BUSYBOX_IMAGE}\nVOLUME /data\nLABEL io.slipway.managed=true io.slipway.instance=${INSTANCE}-image\n`);
  pack.finalize();
  const stream = await docker.buildImage(Readable.from(pack as unknown as AsyncIterable<Buffer>), { t: tag, networkmode: 'none' });
  await followProgress(stream);
}
