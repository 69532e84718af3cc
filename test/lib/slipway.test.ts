// The operations of lib/slipway.ts against the fake runtime: what each hands the seam,
// what it refuses before anything is queued, and how many calls a run costs.
import t from 'tap';
import { LABEL_INSTANCE, LABEL_KIND, LABEL_MANAGED, LABEL_OWNER, LABEL_RUN_ID } from '../../lib/labels.js';
import { PAYLOAD_DIR } from '../../lib/run-kinds/payload-run.js';
import { FakeRuntime } from '../fixtures/fake-runtime.js';
import { FAKE_INSTANCE, fakeSlipway } from '../fixtures/fake-slipway.js';
import { waitFor } from '../fixtures/wait.js';

const IMAGE = 'busybox:latest';

function withImage(runtime = new FakeRuntime()): FakeRuntime {
  runtime.images.set(IMAGE, { id: 'sha256:busybox', digest: null, labels: {} });
  return runtime;
}

t.test('an image run hands the runtime one hardened, labelled spec and costs one look-up and one run', async (t) => {
  const runtime = withImage();
  let spec;
  runtime.behaviour = (s) => ((spec = s), { exitCode: 0 });
  const { slipway } = fakeSlipway(t, { runtime });
  const result = await slipway.runImage({ image: IMAGE, command: ['echo', 'hi'], environment: { A: '1' }, user: '1000', memory_limit: '64m' });
  t.match(spec, {
    runId: result.run_id,
    image: IMAGE,
    cmd: ['echo', 'hi'],
    env: { A: '1' },
    user: '1000',
    labels: { [LABEL_MANAGED]: 'true', [LABEL_INSTANCE]: FAKE_INSTANCE, [LABEL_RUN_ID]: result.run_id, [LABEL_KIND]: 'image' },
    limits: { memoryBytes: 64 * 1024 * 1024, networkMode: 'none', readOnlyRootfs: true },
  });
  t.strictSame(runtime.calls, [`imageInfo ${IMAGE}`, `run ${result.run_id}`, `remove ${result.container_id}`], 'no other round trip through the seam');
});

t.test('on a backend without exec, a payload run hands its files as entries under the payload directory, run as the payload user', async (t) => {
  const runtime = withImage(new FakeRuntime({ capabilities: { exec: false } }));
  let spec;
  runtime.behaviour = (s) => ((spec = s), { exitCode: 0 });
  const { slipway } = fakeSlipway(t, { runtime });
  await slipway.runPayload({ image: IMAGE, command: ['sh', 'main.sh'], payload: 'echo hi', payload_path: 'main.sh', files: [{ path: 'lib/a.txt', content: 'YQ==', encoding: 'base64' }] });
  t.match(spec, { workingDir: PAYLOAD_DIR, user: '65534:65534', files: { dir: PAYLOAD_DIR } });
  const entries = (spec as unknown as { files: { entries: { path: string; content: Buffer }[] } }).files.entries;
  t.strictSame(entries.map((e) => [e.path, e.content.toString()]), [['lib/a.txt', 'a'], ['main.sh', 'echo hi']]);
});

t.test('on a backend without exec, return_files is refused with the capability error naming the field, before anything runs', async (t) => {
  const runtime = withImage(new FakeRuntime({ capabilities: { exec: false } }));
  const { slipway } = fakeSlipway(t, { runtime });
  await t.rejects(slipway.runPayload({ image: IMAGE, command: ['sh', 'main.sh'], payload: 'true', payload_path: 'main.sh', return_files: ['out.txt'] }), {
    code: 'SLIPWAY_ERR_UNSUPPORTED',
    field: 'return_files',
    message: /does not support running a command in a live container/,
  });
  t.strictSame(runtime.calls, [], 'nothing reached the seam');
});

t.test('a missing image is pulled once, with the pulling status and progress as events', async (t) => {
  const runtime = new FakeRuntime();
  runtime.registry.add(IMAGE);
  const { slipway } = fakeSlipway(t, { runtime });
  const events: string[] = [];
  await slipway.runImage({ image: IMAGE, command: ['true'] }, { onEvent: (e) => events.push(e.type === 'status' ? e.status : e.type) });
  t.strictSame(events, ['pulling', 'pull', 'pull', 'running']);
  t.equal(runtime.calls.filter((c) => c.startsWith('pullImage')).length, 1);
});

t.test('pull_policy never refuses a missing image and runs nothing', async (t) => {
  const runtime = new FakeRuntime();
  const { slipway } = fakeSlipway(t, { runtime });
  await t.rejects(slipway.runImage({ image: IMAGE, command: ['true'], pull_policy: 'never' }), { code: 'SLIPWAY_ERR_IMAGE_NOT_FOUND', field: 'image' });
  t.notOk(runtime.calls.some((c) => c.startsWith('run ') || c.startsWith('pullImage')));
});

t.test('pull_docker_image answers the image id and digest the backend reports', async (t) => {
  const runtime = new FakeRuntime();
  runtime.registry.add(IMAGE);
  const { slipway } = fakeSlipway(t, { runtime });
  t.match(await slipway.pullImage({ image: 'busybox' }), { success: true, image: IMAGE, image_id: `sha256:${IMAGE}`, digest: `sha256:digest-of-${IMAGE}` });
  await t.rejects(slipway.pullImage({ image: 'nothere:1' }), { code: 'SLIPWAY_ERR_IMAGE_NOT_FOUND', field: 'image', message: /image nothere:1 was not found/ });
});

t.test('stdin on a backend without stdin is refused naming the field, before any record or container', async (t) => {
  const runtime = withImage(new FakeRuntime({ capabilities: { stdin: false } }));
  const { slipway } = fakeSlipway(t, { runtime });
  for (const run of [
    () => slipway.runImage({ image: IMAGE, command: ['cat'], stdin: 'x' }),
    () => slipway.runPayload({ image: IMAGE, command: ['cat'], payload: 'x', payload_path: 'x', stdin: 'x' }),
  ]) {
    await t.rejects(run(), { code: 'SLIPWAY_ERR_UNSUPPORTED', statusCode: 400, field: 'stdin', message: 'the fake backend does not support feeding stdin to a run' });
  }
  t.strictSame(runtime.calls, [], 'the runtime was not called');
  t.equal(slipway.listRuns({}).runs.length, 0, 'no run was recorded');
  t.equal((await slipway.runImage({ image: IMAGE, command: ['true'] })).status, 'succeeded', 'runs without stdin still work');
});

t.test('a repository run on a backend that cannot build is refused before anything is cloned', async (t) => {
  const runtime = new FakeRuntime({ capabilities: { build: false } });
  const { slipway } = fakeSlipway(t, { runtime });
  await t.rejects(slipway.runRepo({ repo_url: 'https://example.com/a.git' }), { code: 'SLIPWAY_ERR_UNSUPPORTED', field: 'repo_url', message: /does not support building images/ });
  t.equal(slipway.listRuns({}).runs.length, 0);
});

t.test('list_running_containers shows a token only its own containers of this instance', async (t) => {
  const runtime = new FakeRuntime();
  const labels = (owner: string, instance = FAKE_INSTANCE) => ({ [LABEL_MANAGED]: 'true', [LABEL_INSTANCE]: instance, [LABEL_OWNER]: owner });
  runtime.seed({ labels: labels('ann'), state: 'running' });
  runtime.seed({ labels: labels('bob'), state: 'running' });
  runtime.seed({ labels: labels('ann', 'other'), state: 'running' });
  const { slipway } = fakeSlipway(t, { runtime });
  const ann = { name: 'ann', seesAll: false, policy: slipway.openCaller.policy };
  const listed = await slipway.listContainers({}, ann);
  t.equal(listed.containers.length, 1);
  t.equal(listed.containers[0]?.labels[LABEL_OWNER], 'ann');
  t.equal((await slipway.listContainers({}, slipway.openCaller)).containers.length, 2, 'the open caller sees this instance\'s only');
});

t.test('stop_container on a live run ends the run cancelled and answers once its record says so', async (t) => {
  const runtime = withImage();
  runtime.behaviour = () => 'hold';
  const { slipway } = fakeSlipway(t, { runtime });
  const run = await slipway.runImage({ image: IMAGE, command: ['sleep', '9'], wait: false });
  const container = await waitFor(() => runtime.containerOf(run.run_id), { what: 'the run\'s container' });
  t.match(await slipway.stopContainer({ container_id: container.id }), { success: true, was_running: true, run_id: run.run_id });
  t.equal(slipway.runs.get(run.run_id).status, 'cancelled');
  await t.rejects(slipway.stopContainer({ container_id: 'nothere' }), { code: 'SLIPWAY_ERR_CONTAINER_NOT_FOUND', field: 'container_id' });
});

t.test("a caller whose policy places runs is refused on a backend that cannot place them, before any record", async (t) => {
  const runtime = withImage(new FakeRuntime({ capabilities: { placement: false } }));
  const { slipway } = fakeSlipway(t, { runtime });
  const placed = { name: 'batch', seesAll: false, policy: { ...slipway.openCaller.policy, placement: ['node.labels.pool==batch'] } };
  await t.rejects(slipway.runImage({ image: IMAGE, command: ['true'] }, { caller: placed }), { code: 'SLIPWAY_ERR_UNSUPPORTED', message: 'the fake backend does not support placement constraints' });
  t.strictSame(runtime.calls, [], 'the runtime was not called');
  t.equal((await slipway.runImage({ image: IMAGE, command: ['true'] }, { caller: { ...placed, policy: { ...placed.policy, placement: [] } } })).status, 'succeeded', 'an empty list is no placement');
});
