// The Swarm backend (SLIPWAY_BACKEND=swarm) on a real three-node Swarm brought up on this
// machine for this file (test/fixtures/swarm.ts): runs, payload files as configs, list,
// stop, cancel, timeout, SSE, placement over the nodes, what Swarm cannot do refused on
// both doors, and a gateway killed with -9 and restarted. Everything the gateway creates
// on the Swarm is checked gone at the end, and so is the testbed itself.
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABEL_INSTANCE } from '../../lib/labels.js';
import { spawnGateway } from '../fixtures/gateway-process.js';
import { startGateway } from '../fixtures/gateway.js';
import { TEST_INSTANCE } from '../fixtures/docker.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { connectClient } from '../fixtures/mcp.js';
import { pollUntilFinal, pollUntilRunning } from '../fixtures/runs.js';
import { readSse } from '../fixtures/sse.js';
import { swarmLeftovers, swarmUp, type Swarm } from '../fixtures/swarm.js';
import { bearer, writeTokensFile } from '../fixtures/tokens.js';
import { waitFor } from '../fixtures/wait.js';

const INSTANCE = `${TEST_INSTANCE}-swarm`;
const started = Date.now();
let swarm: Swarm | undefined;
t.teardown(async () => {
  await swarm?.down();
  t.comment(`swarm file: ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
});
swarm = await swarmUp(3, [BUSYBOX_IMAGE]);
t.comment(`swarm up with the image on every node: ${((Date.now() - started) / 1000).toFixed(1)} s`);
const { manager } = swarm;
const nodeIds = new Map((await manager.listNodes()).map((n) => [n.Description!.Hostname!, n.ID]));
// One worker carries the label a token's placement asks for.
const batchNode = (await manager.listNodes()).find((n) => n.Description?.Hostname === 'slwt-n3')!;
await manager.getNode(batchNode.ID).update({ version: batchNode.Version!.Index, ...batchNode.Spec, Labels: { pool: 'batch' } });

const tokensFile = await writeTokensFile([
  { name: 'ops', token: 'ops-token', scopes: ['run', 'read', 'admin'] },
  { name: 'batch', token: 'batch-token', scopes: ['run', 'read'], policy: { placement: ['node.labels.pool==batch'] } },
  { name: 'nowhere', token: 'nowhere-token', scopes: ['run', 'read'], policy: { placement: ['node.labels.pool==nowhere'] } },
]);
t.teardown(() => rm(join(tokensFile, '..'), { recursive: true, force: true }));
const swarmEnv = { SLIPWAY_BACKEND: 'swarm', DOCKER_HOST: swarm.managerHost, SLIPWAY_INSTANCE: INSTANCE, SLIPWAY_TOKENS_FILE: tokensFile, SLIPWAY_MAX_CONCURRENT_RUNS: '8' };
const gw = await startGateway(swarmEnv);
t.teardown(() => gw.close());
const ops = bearer('ops-token');
const run = (body: Record<string, unknown>, headers = ops) => gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, ...body }, headers);
const get = (path: string) => gw.request('GET', path, undefined, ops);
const client = { request: (method: string, path: string) => gw.request(method, path, undefined, ops) };
const labelled = [`${LABEL_INSTANCE}=${INSTANCE}`];
const ourServices = () => manager.listServices({ filters: { label: labelled } });
const ourConfigs = () => manager.listConfigs({ filters: { label: labelled } });

t.test('an image run: output told apart, exit code, times, in a hardened task with only lo', async (t) => {
  const script = 'echo out; echo err >&2; grep NoNewPrivs /proc/self/status; grep CapEff /proc/self/status; ls /sys/class/net; touch /x 2>/dev/null || echo ro';
  const res = await run({ command: ['sh', '-c', script] });
  t.equal(res.status, 200);
  t.match(res.body, { status: 'succeeded', exit_code: 0, success: true, stderr: 'err\n', container_id: /^[a-z0-9]{25}$/ });
  t.equal(res.body.stdout, 'out\nNoNewPrivs:\t1\nCapEff:\t0000000000000000\nlo\nro\n', 'no new privileges (node daemon), no capabilities, no network but lo, read-only root');
  t.ok(Date.parse(res.body.finished_at) >= Date.parse(res.body.started_at), 'times from the task');
  t.equal(res.body.resource_usage, null, 'no usage: the manager has none of a task');
  t.match(res.body.resource_usage_unavailable, /Swarm manager does not report/, 'and the record says so');
  t.same(await ourServices(), [], 'the service is removed with the run');
});

t.test('a failing run ends failed with its exit code and stderr', async (t) => {
  const res = await run({ command: ['sh', '-c', 'echo bad >&2; exit 3'] });
  t.match(res.body, { status: 'failed', exit_code: 3, stderr: 'bad\n', error_message: 'process exited with code 3' });
});

t.test('an image the manager does not have, with pull_policy never, is refused before a service is created', async (t) => {
  const res = await run({ image: 'slipway-test/absent:1', pull_policy: 'never', command: ['true'] });
  t.equal(res.status, 404);
  t.match(res.body.error, { code: 'SLIPWAY_ERR_IMAGE_NOT_FOUND', field: 'image' });
  t.same(await ourServices(), []);
});

t.test('a run killed for memory ends failed with exit code 137, said to be most likely its memory limit (the manager reports no OOM)', async (t) => {
  // /tmp is a tmpfs: what is written there counts against the run's memory.
  const res = await run({ command: ['sh', '-c', 'head -c 64m /dev/zero > /tmp/fill; echo survived'], memory_limit: '16m' });
  t.match(res.body, { status: 'failed', exit_code: 137, error_message: /most likely for exceeding its memory limit of 16 MiB/ });
  t.notMatch(res.body.stdout, /survived/);
});

t.test('a payload run reads its files from configs mounted read-only; they go with the run', async (t) => {
  const res = await gw.request(
    'POST',
    '/v1/payloads/run',
    { image: BUSYBOX_IMAGE, command: 'sh main.sh', files: [{ path: 'main.sh', content: 'cat lib/data.txt; id -u; echo x > lib/data.txt 2>/dev/null || echo read-only' }, { path: 'lib/data.txt', content: 'hello from a config\n' }] },
    ops,
  );
  t.equal(res.status, 200);
  t.match(res.body, { status: 'succeeded', stdout: 'hello from a config\n65534\nread-only\n' });
  t.same(await ourConfigs(), [], 'configs removed with the run');
});

t.test('a payload over the configs bound is refused naming the field, creating nothing', async (t) => {
  const res = await gw.request('POST', '/v1/payloads/run', { image: BUSYBOX_IMAGE, command: 'sh main.sh', files: [{ path: 'main.sh', content: 'x'.repeat(1_000_001) }] }, ops);
  t.equal(res.status, 400);
  t.match(res.body.error, { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'files', message: /1000000 bytes/ });
  t.same(await ourConfigs(), []);
  t.same(await ourServices(), []);
});

t.test('list shows the run\'s service by label, hardened as asked; stop removes it and the run ends cancelled', async (t) => {
  const start = await run({ command: ['sleep', '30'], wait: false, memory_limit: '64m', pids_limit: 32, cpu_limit: 0.5 });
  await pollUntilRunning(client, start.body.run_id);
  const listed = await waitFor(async () => (await get('/v1/containers')).body.containers?.find((c: any) => c.run_id === start.body.run_id), { what: 'the run listed' });
  t.match(listed, { image: BUSYBOX_IMAGE, state: 'running' });
  const spec = (await manager.getService(listed.id).inspect()).Spec;
  t.match(spec.TaskTemplate, {
    ContainerSpec: { ReadOnly: true, CapabilityDrop: ['ALL'], Init: true, Ulimits: [{ Name: 'nofile' }, { Name: 'nproc' }, { Name: 'fsize' }] },
    Resources: { Limits: { MemoryBytes: 64 * 1024 * 1024, NanoCPUs: 5e8, Pids: 32 } },
    RestartPolicy: { Condition: 'none' },
  });
  t.same(spec.TaskTemplate.Networks ?? [], [], 'no networks');
  t.ok(spec.Mode.ReplicatedJob, 'a job');
  const stop = await gw.request('POST', `/v1/containers/${listed.id}/stop`, { timeout: 1 }, ops);
  t.equal(stop.status, 200);
  t.match(await pollUntilFinal(client, start.body.run_id), { status: 'cancelled' });
  await waitFor(async () => (await ourServices()).length === 0, { what: 'the service removed' });
});

t.test('cancel removes the service; the run ends cancelled', async (t) => {
  const start = await run({ command: ['sleep', '30'], wait: false });
  await pollUntilRunning(client, start.body.run_id);
  t.equal((await gw.request('DELETE', `/v1/runs/${start.body.run_id}`, undefined, ops)).status, 200);
  t.match(await pollUntilFinal(client, start.body.run_id), { status: 'cancelled', error_message: 'run was cancelled' });
  await waitFor(async () => (await ourServices()).length === 0, { what: 'the service removed' });
});

t.test('a run past its timeout ends timed_out, with what it printed', async (t) => {
  const res = await run({ command: ['sh', '-c', 'echo before; sleep 30'], timeout: 2 });
  t.match(res.body, { status: 'timed_out', stdout: 'before\n', error_message: /timeout of 2s/ });
  t.same(await ourServices(), []);
});

t.test('the SSE log stream carries stdout and stderr as they come, then the end', async (t) => {
  const start = await run({ command: ['sh', '-c', 'for i in 1 2 3; do echo "out $i"; sleep 0.3; done; echo warn >&2; exit 4'], wait: false });
  const events = await readSse(`${gw.url}/v1/runs/${start.body.run_id}/logs`, ops);
  t.same(events.filter((e) => e.event === 'stdout').map((e) => e.data.data), ['out 1\n', 'out 2\n', 'out 3\n']);
  t.same(events.filter((e) => e.event === 'stderr').map((e) => e.data.data), ['warn\n']);
  t.match(events.at(-1)!.data, { type: 'end', data: { status: 'failed', exit_code: 4 } });
  t.same(events.map((e) => e.id), events.map((_, i) => i + 1));
});

t.test('runs spread over more than one node', async (t) => {
  const ids = await Promise.all(Array.from({ length: 6 }, async () => (await run({ command: ['sleep', '2'], wait: false })).body.run_id as string));
  const nodes = new Set<string>();
  await waitFor(
    async () => {
      for (const task of await manager.listTasks()) if (task.NodeID && task.Status?.State === 'running') nodes.add(task.NodeID);
      return nodes.size >= 2;
    },
    { what: 'tasks running on two nodes', timeoutMs: 15_000 },
  );
  for (const id of ids) t.match(await pollUntilFinal(client, id), { status: 'succeeded' });
  t.ok(nodes.size >= 2, `tasks ran on ${nodes.size} nodes`);
});

t.test("a token's placement constraint puts its runs on the matching node; a task that node rejects, or one no node matches, ends error with the reason", async (t) => {
  const start = await run({ command: ['sleep', '1'], wait: false }, bearer('batch-token'));
  const node = await waitFor(async () => (await manager.listTasks()).find((task) => task.Spec?.ContainerSpec?.Labels?.['io.slipway.run-id'] === start.body.run_id)?.NodeID, { what: 'the task placed' });
  t.equal(node, nodeIds.get('slwt-n3'), 'on the node labelled pool=batch');
  t.match(await pollUntilFinal(client, start.body.run_id), { status: 'succeeded' });
  // Only the manager has this tag: the batch node cannot get it (no registry), and rejects the task.
  await manager.getImage(BUSYBOX_IMAGE).tag({ repo: 'slipway-test/manager-only', tag: '1' });
  t.teardown(() => manager.getImage('slipway-test/manager-only:1').remove().catch(() => undefined));
  const rejected = await run({ image: 'slipway-test/manager-only:1', command: ['true'] }, bearer('batch-token'));
  t.match(rejected.body.error, { code: 'SLIPWAY_ERR_ENGINE', message: /^the Swarm could not run the task: .*manager-only/ }, "the node's reason");
  const nowhere = await run({ command: ['true'] }, bearer('nowhere-token'));
  t.match(nowhere.body.error, { code: 'SLIPWAY_ERR_ENGINE', message: /no suitable node/ });
  t.same(await ourServices(), []);
});

t.test('stdin is refused with SLIPWAY_ERR_UNSUPPORTED on REST and on MCP, creating nothing', async (t) => {
  const rest = await run({ command: ['cat'], stdin: 'hi' });
  t.equal(rest.status, 400);
  t.match(rest.body.error, { code: 'SLIPWAY_ERR_UNSUPPORTED', field: 'stdin', message: 'the swarm backend does not support feeding stdin to a run' });
  const mcp = await connectClient(gw.url, { requestInit: { headers: ops } });
  t.teardown(() => mcp.close());
  const res = (await mcp.client.callTool({ name: 'execute_docker_container', arguments: { image: BUSYBOX_IMAGE, command: ['cat'], stdin: 'hi' } })) as any;
  t.equal(res.isError, true);
  t.match(res._meta['io.slipway/error'], { code: 'SLIPWAY_ERR_UNSUPPORTED', field: 'stdin' });
  t.same(await ourServices(), []);
});

t.test('/readyz states what the nodes\' daemons must provide', async (t) => {
  const res = await gw.request('GET', '/readyz');
  t.equal(res.status, 200);
  t.match(res.body, { status: 'ready', details: { backend: 'swarm', swarm: 'manager of 3 node(s), 3 ready', bridge: /^none on the manager/, 'no-new-privileges': /daemon\.json/ } });
});

t.test('a gateway killed with -9 mid-run and restarted records the run from the Swarm', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'slipway-swarm-restart-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const env = { ...swarmEnv, SLIPWAY_INSTANCE: `${INSTANCE}-restart`, SLIPWAY_DATA_DIR: dataDir, SLIPWAY_TOKENS_FILE: '' };
  const first = await spawnGateway(env);
  t.teardown(() => first.kill('SIGKILL'));
  const api = (g: { url: string }) => ({
    async request(method: string, path: string, body?: unknown) {
      const res = await fetch(g.url + path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : null });
      return { status: res.status, body: (await res.json()) as any };
    },
  });
  const long = (await api(first).request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'for i in 1 2 3 4 5 6; do echo "a $i"; sleep 0.5; done'], wait: false })).body.run_id;
  const endsWhileDown = (await api(first).request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo b; sleep 1.5; exit 7'], wait: false })).body.run_id;
  for (const id of [long, endsWhileDown]) await pollUntilRunning(api(first), id);
  await new Promise((r) => setTimeout(r, 600)); // a line or two of the long run is logged before the kill
  await first.kill('SIGKILL');
  t.equal((await manager.listServices({ filters: { label: [`${LABEL_INSTANCE}=${INSTANCE}-restart`] } })).length, 2, 'the killed gateway removed nothing');
  await new Promise((r) => setTimeout(r, 1500)); // the second run ends while no gateway watches

  const second = await spawnGateway(env);
  t.teardown(() => second.kill('SIGKILL'));
  const a = await pollUntilFinal(api(second), long);
  t.match(a, { status: 'succeeded', exit_code: 0, stdout: [1, 2, 3, 4, 5, 6].map((i) => `a ${i}\n`).join('') });
  t.match(await pollUntilFinal(api(second), endsWhileDown), { status: 'failed', exit_code: 7, stdout: 'b\n' });
  const events = await readSse(`${second.url}/v1/runs/${long}/logs`);
  t.same(events.filter((e) => e.event === 'stdout').map((e) => e.data.data).join(''), a.stdout, 'every line logged exactly once across the restart');
  await waitFor(async () => (await manager.listServices({ filters: { label: [`${LABEL_INSTANCE}=${INSTANCE}-restart`] } })).length === 0, { what: 'services removed' });
  await second.kill('SIGTERM');
});

t.test('nothing of the runs is left on the Swarm, and nothing of the testbed after it goes', async (t) => {
  const prefix = [`${LABEL_INSTANCE}`];
  const leftovers = [...(await manager.listServices({ filters: { label: prefix } })), ...(await manager.listConfigs({ filters: { label: prefix } }))];
  t.same(leftovers, [], 'no labelled service or config');
  await swarm!.down();
  swarm = undefined;
  t.same(swarmLeftovers(), [], 'no namespace, mount, process, cgroup or directory');
});
