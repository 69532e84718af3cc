// POST /v1/containers/run, GET /v1/containers and POST /v1/containers/{id}/stop on the real engine.
import t from 'tap';
import { BUSYBOX_IMAGE, PYTHON_IMAGE } from '../fixtures/images.js';
import { startGateway } from '../fixtures/gateway.js';
import { runningContainers, waitUntilGone } from '../fixtures/engine-view.js';
import { docker, notOnPodman, TEST_INSTANCE, TEST_ULIMITS } from '../fixtures/docker.js';
import { LABEL_INSTANCE, LABEL_MANAGED } from '../../lib/labels.js';
import { pollUntilFinal, pollUntilRunning } from '../fixtures/runs.js';

const INSTANCE = `${TEST_INSTANCE}-containers`;
const gw = await startGateway({ SLIPWAY_INSTANCE: INSTANCE, SLIPWAY_OUTPUT_CAP_BYTES: '1024', SLIPWAY_OUTPUT_LIMIT_BYTES: String(4 * 1024 * 1024), SLIPWAY_STOP_GRACE_SECONDS: '1' });
t.teardown(() => gw.close());

const run = (body: Record<string, unknown>) => gw.request('POST', '/v1/containers/run', body);

t.test('stdout, stderr and exit code come back, and the container is removed', async (t) => {
  const res = await run({ image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
  t.equal(res.status, 200);
  t.match(res.body, { success: false, exit_code: 3, stdout: 'out\n', stderr: 'err\n', status: 'failed', error_message: /exited with code 3/, image: BUSYBOX_IMAGE });
  t.type(res.body.execution_time, 'number');
  t.match(res.body.run_id, /^[0-9a-f-]{36}$/);
  t.ok(await waitUntilGone(res.body.container_id), 'container removed');
});

t.test('a quoted string command is split without a shell', async (t) => {
  const res = await run({ image: PYTHON_IMAGE, command: "python3 -c 'print(2+2)'" });
  t.match(res.body, { success: true, exit_code: 0, stdout: '4\n', status: 'succeeded' });
});

t.test('a string command with a shell operator is refused naming the field', async (t) => {
  const res = await run({ image: BUSYBOX_IMAGE, command: 'echo a; echo b' });
  t.equal(res.status, 400);
  t.match(res.body.error, { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'command' });
});

t.test('stdin, environment, working_dir, entrypoint and user are honoured', async (t) => {
  const res = await run({
    image: BUSYBOX_IMAGE,
    entrypoint: ['sh', '-c'],
    command: ['cat; echo "$GREETING"; pwd; id -u'],
    stdin: 'from stdin\n',
    environment: { GREETING: 'hello $literal' },
    working_dir: '/tmp',
    user: '1234:1234',
  });
  t.match(res.body, { success: true, stdout: 'from stdin\nhello $literal\n/tmp\n1234\n' });
});

t.test('a timeout ignoring SIGTERM ends in SIGKILL, timed_out, and the container gone', async (t) => {
  const res = await run({ image: BUSYBOX_IMAGE, command: ['sh', '-c', 'trap "" TERM; echo started; while true; do sleep 1; done'], timeout: 1 });
  t.equal(res.status, 200);
  t.match(res.body, { success: false, status: 'timed_out', stdout: 'started\n', error_message: /timeout/ });
  t.equal(res.body.exit_code, 137, 'killed by SIGKILL after the grace');
  t.ok(await waitUntilGone(res.body.container_id), 'container removed');
});

t.test('a memory blow-up is reported as oom_killed', notOnPodman('Podman 4.3 sets no OOMKilled and sends no oom event; podman.test.ts checks what it reports instead'), async (t) => {
  const res = await run({ image: PYTHON_IMAGE, command: ['python3', '-c', "b = b'x' * (256 * 1024 * 1024); print(len(b))"], memory_limit: '32m' });
  t.match(res.body, { success: false, status: 'oom_killed', error_message: /memory limit of 32 MiB/ });
  t.equal(res.body.exit_code, 137);
});

t.test('output past the cap is truncated, not held', async (t) => {
  const res = await run({ image: BUSYBOX_IMAGE, command: ['sh', '-c', 'seq 1 2000; seq 1 500 >&2'] });
  t.match(res.body, { success: true, stdout_truncated: true, stderr_truncated: true });
  t.equal(res.body.stdout.length, 1024, 'kept exactly the cap');
  t.ok(res.body.stdout.startsWith('1\n2\n3\n'), 'kept the head');
});

t.test('an output flood past the limit stops the run', async (t) => {
  const res = await run({ image: BUSYBOX_IMAGE, command: ['yes', 'flood'], timeout: 30 });
  t.match(res.body, { success: false, status: 'failed', stdout_truncated: true, error_message: /more than 4194304 bytes of output/ });
  t.ok(res.body.execution_time < 30, 'stopped before its timeout');
  t.ok(await waitUntilGone(res.body.container_id));
});

t.test('list shows running Slipway containers with their run id; stop ends the run cancelled', async (t) => {
  const pending = run({ image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo up; sleep 60'], timeout: 120 });
  let listed: any;
  for (let i = 0; i < 100 && !listed; i++) {
    const res = await gw.request('GET', '/v1/containers?state=running');
    t.equal(res.status, 200);
    listed = res.body.containers[0];
    if (!listed) await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(listed, 'the running container is listed');
  t.match(listed, { image: BUSYBOX_IMAGE, state: 'running', run_id: /^[0-9a-f-]{36}$/, labels: { [LABEL_MANAGED]: 'true', [LABEL_INSTANCE]: INSTANCE } });
  t.equal((await runningContainers(INSTANCE)).length, 1, 'the engine agrees');

  const stop = await gw.request('POST', `/v1/containers/${listed.name}/stop`, { timeout: 1 });
  t.equal(stop.status, 200);
  t.match(stop.body, { success: true, container_id: listed.id, was_running: true, run_id: listed.run_id });
  const result = (await pending).body;
  t.match(result, { status: 'cancelled', success: false, run_id: listed.run_id, stdout: 'up\n' });
  t.ok(await waitUntilGone(listed.id), 'container removed');
});

t.test('stop accepts the run id as well as the container id or name', async (t) => {
  const started = await run({ image: BUSYBOX_IMAGE, command: ['sleep', '60'], timeout: 120, wait: false });
  const running = await pollUntilRunning(gw, started.body.run_id);
  const stop = await gw.request('POST', `/v1/containers/${started.body.run_id}/stop`, { timeout: 1 });
  t.equal(stop.status, 200);
  t.match(stop.body, { success: true, container_id: running.container_id, was_running: true, run_id: started.body.run_id });
  t.match(await pollUntilFinal(gw, started.body.run_id), { status: 'cancelled' });
  t.ok(await waitUntilGone(running.container_id), 'container removed');
  const unknownRun = await gw.request('POST', '/v1/containers/00000000-0000-4000-8000-000000000000/stop');
  t.match(unknownRun, { status: 404, body: { error: { code: 'SLIPWAY_ERR_CONTAINER_NOT_FOUND', field: 'container_id' } } });
});

t.test('stop with the id of a run that never had a container says so', async (t) => {
  t.equal((await run({ image: 'slipway-test/absent:1', command: ['true'], pull_policy: 'never' })).status, 404);
  const [failed] = (await gw.request('GET', '/v1/runs?limit=1')).body.runs;
  const res = await gw.request('POST', `/v1/containers/${failed.run_id}/stop`);
  t.match(res, { status: 404, body: { error: { code: 'SLIPWAY_ERR_CONTAINER_NOT_FOUND', message: `run ${failed.run_id} has no container (it is error); cancel_run stops a run before its container starts` } } });
});

t.test('stop of an unknown container, or one Slipway did not create, is a 404', async (t) => {
  const unknown = await gw.request('POST', '/v1/containers/no-such-container/stop');
  t.equal(unknown.status, 404);
  t.match(unknown.body.error, { code: 'SLIPWAY_ERR_CONTAINER_NOT_FOUND', field: 'container_id' });

  const foreign = await docker.createContainer({ Image: BUSYBOX_IMAGE, Cmd: ['sleep', '60'], HostConfig: { NetworkMode: 'none', Ulimits: TEST_ULIMITS } });
  t.teardown(() => foreign.remove({ force: true }));
  await foreign.start();
  const res = await gw.request('POST', `/v1/containers/${foreign.id}/stop`);
  t.equal(res.status, 404, 'a container Slipway did not create is not found');
  t.equal((await foreign.inspect()).State.Running, true, 'and it was left running');
  const listed = await gw.request('GET', '/v1/containers');
  t.notOk(listed.body.containers.some((c: { id: string }) => c.id === foreign.id), 'nor is it listed');
});

t.test('listing every container on the engine is refused unless configured', async (t) => {
  const res = await gw.request('GET', '/v1/containers?all_engine=true');
  t.equal(res.status, 403);
  t.match(res.body.error, { code: 'SLIPWAY_ERR_POLICY_DENIED', field: 'all_engine' });
});

t.test('an image that does not exist locally with pull_policy never is a 404 naming image', async (t) => {
  const res = await run({ image: 'slipway-test/absent:1', command: ['true'], pull_policy: 'never' });
  t.equal(res.status, 404);
  t.match(res.body.error, { code: 'SLIPWAY_ERR_IMAGE_NOT_FOUND', field: 'image' });
});
