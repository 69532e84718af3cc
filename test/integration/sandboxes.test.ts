// Sandboxes against the real engine: create, many execs sharing /workspace, files in and
// out, ownership and quotas, timeouts that kill the whole process tree, expiry, and
// nothing left behind after delete.
import t from 'tap';
import { notOnPodman } from '../fixtures/docker.js';
import { startGateway } from '../fixtures/gateway.js';
import { connectClient } from '../fixtures/mcp.js';
import { BUSYBOX_IMAGE, PYTHON_IMAGE } from '../fixtures/images.js';
import { CAP_DROP_ALL_AS_REPORTED, NO_NEW_PRIVILEGES_AS_REPORTED } from '../fixtures/engine-view.js';
import { readSse } from '../fixtures/sse.js';
import { inspectContainer, removeSandboxesOf, sandboxObjects } from '../fixtures/sandboxes.js';
import { bearer, writeTokensFile } from '../fixtures/tokens.js';
import { waitFor } from '../fixtures/wait.js';

const tokensFile = await writeTokensFile([
  { name: 'alice', token: 'alice-token', scopes: ['run', 'read'] },
  { name: 'bob', token: 'bob-token', scopes: ['run', 'read'] },
  { name: 'reader', token: 'reader-token', scopes: ['read'] },
]);
const gw = await startGateway({
  SLIPWAY_TOKENS_FILE: tokensFile,
  SLIPWAY_SANDBOX_MAX_PER_CALLER: '2',
  SLIPWAY_SANDBOX_MEMORY_PER_CALLER_BYTES: String(600 * 1024 * 1024),
  SLIPWAY_SANDBOX_WORKSPACE_BYTES: String(16 * 1024 * 1024),
  SLIPWAY_SANDBOX_TTL_MAX_SECONDS: '3600',
  SLIPWAY_SANDBOX_SWEEP_INTERVAL_SECONDS: '1',
});
t.teardown(async () => {
  await gw.close();
  await removeSandboxesOf(gw.instance);
});
const alice = bearer('alice-token');
const bob = bearer('bob-token');

async function create(body: Record<string, unknown>, headers = alice) {
  const res = await gw.request('POST', '/v1/sandboxes', body, headers);
  return res;
}
const exec = (id: string, body: Record<string, unknown>, headers = alice) => gw.request('POST', `/v1/sandboxes/${id}/exec`, body, headers);
const del = (id: string, headers = alice) => gw.request('DELETE', `/v1/sandboxes/${id}`, undefined, headers);

t.test('a sandbox keeps /workspace between execs, takes files in and gives them out, and leaves nothing after delete', async (t) => {
  const created = await create({ image: BUSYBOX_IMAGE, environment: { GREETING: 'hi' }, labels: { task: 'demo' } });
  t.equal(created.status, 200, JSON.stringify(created.body));
  const id = created.body.sandbox_id;
  t.match(created.body, { state: 'running', owner: 'alice', image: BUSYBOX_IMAGE, workspace: '/workspace', labels: { task: 'demo' } });

  const info = await inspectContainer(created.body.container_id);
  t.equal(info.HostConfig.ReadonlyRootfs, true, 'read-only root');
  t.same([...(info.HostConfig.CapDrop ?? [])].sort(), CAP_DROP_ALL_AS_REPORTED, 'no capabilities');
  t.same(info.HostConfig.SecurityOpt, NO_NEW_PRIVILEGES_AS_REPORTED);
  t.equal(info.HostConfig.NetworkMode, 'none');
  t.equal(info.HostConfig.Init, true);
  t.ok(info.HostConfig.PidsLimit, 'a pids limit');
  t.match(info.HostConfig.Tmpfs?.['/workspace'], /size=16777216/, 'the workspace is a bounded tmpfs');
  t.equal(info.Config.User, '65533:65533', 'the keep-alive runs as another uid than the execs (65534)');
  t.match(info.Config.Labels, { 'io.slipway.kind': 'sandbox', 'io.slipway.sandbox-id': id, 'io.slipway.owner': 'alice' });

  for (let i = 0; i < 3; i++) {
    const r = await exec(id, { command: ['sh', '-c', `echo $GREETING-${i} >> log.txt; cat log.txt | wc -l`] });
    t.equal(r.status, 200);
    t.match(r.body, { status: 'succeeded', stdout: `${i + 1}\n` }, `exec ${i} sees the lines of the ones before`);
  }
  const read = await gw.request('GET', `/v1/sandboxes/${id}/files/content?path=log.txt`, undefined, alice);
  t.match(read.body, { path: '/workspace/log.txt', encoding: 'utf8', content: 'hi-0\nhi-1\nhi-2\n', truncated: false });

  const written = await gw.request('POST', `/v1/sandboxes/${id}/files`, {
    files: [{ path: 'src/data.txt', content: 'from the caller\n' }, { path: 'bin.dat', content: Buffer.from([0, 255, 1]).toString('base64'), encoding: 'base64' }],
  }, alice);
  t.equal(written.status, 200, JSON.stringify(written.body));
  const seen = await exec(id, { command: 'cat src/data.txt' });
  t.equal(seen.body.stdout, 'from the caller\n', 'an exec reads a written file');
  const binary = await gw.request('GET', `/v1/sandboxes/${id}/files/content?path=bin.dat`, undefined, alice);
  t.match(binary.body, { encoding: 'base64', content: Buffer.from([0, 255, 1]).toString('base64'), size: 3 });
  const listing = await gw.request('GET', `/v1/sandboxes/${id}/files?path=.`, undefined, alice);
  t.same(listing.body.entries.map((e: any) => `${e.type}:${e.name}`).sort(), ['directory:src', 'file:bin.dat', 'file:log.txt']);

  const stdin = await exec(id, { command: ['cat'], stdin: 'piped' });
  t.equal(stdin.body.stdout, 'piped', 'stdin reaches the command');
  const failing = await exec(id, { command: ['sh', '-c', 'exit 3'] });
  t.match(failing.body, { status: 'failed', exit_code: 3, success: false });

  const keyed = { command: ['sh', '-c', 'echo once >> once.txt; wc -l < once.txt'], idempotency_key: 'append-1' };
  const first = await exec(id, keyed);
  const retry = await exec(id, keyed);
  t.equal(retry.body.run_id, first.body.run_id, 'a retry with the same idempotency key is the same run');
  t.equal((await exec(id, { command: 'wc -l once.txt' })).body.stdout.trim().split(/\s+/)[0], '1', 'and ran once');
  const record = await gw.request('GET', `/v1/runs/${seen.body.run_id}`, undefined, alice);
  t.match(record.body, { kind: 'exec', status: 'succeeded' }, 'an exec is a run of kind exec');

  const gone = await del(id);
  t.match(gone.body, { deleted: true });
  t.same(await sandboxObjects(id), { containers: [], volumes: [] }, 'no container or volume is left');
  t.equal((await gw.request('GET', `/v1/sandboxes/${id}`, undefined, alice)).status, 404);
});

t.test('a sandbox from a language preset runs that language', async (t) => {
  const created = await create({ language: 'python' });
  t.equal(created.body.image, PYTHON_IMAGE);
  const r = await exec(created.body.sandbox_id, { command: ['python3', '-c', 'open("x.py","w").write("print(6*7)")'] });
  t.equal(r.body.status, 'succeeded', JSON.stringify(r.body));
  t.equal((await exec(created.body.sandbox_id, { command: 'python3 x.py' })).body.stdout, '42\n');
  await del(created.body.sandbox_id);
});

t.test('another token cannot see or touch a sandbox, and a read-only token cannot change it', async (t) => {
  const { body } = await create({ image: BUSYBOX_IMAGE });
  const id = body.sandbox_id;
  t.teardown(() => del(id));
  t.equal((await gw.request('GET', `/v1/sandboxes/${id}`, undefined, bob)).status, 404);
  t.same((await gw.request('GET', '/v1/sandboxes', undefined, bob)).body.sandboxes, []);
  t.equal((await exec(id, { command: 'true' }, bob)).status, 404);
  t.equal((await gw.request('GET', `/v1/sandboxes/${id}/files/content?path=x`, undefined, bob)).status, 404);
  t.equal((await gw.request('POST', `/v1/sandboxes/${id}/files`, { files: [{ path: 'a', content: 'b' }] }, bob)).status, 404);
  t.equal((await del(id, bob)).status, 404);
  t.equal((await exec(id, { command: 'true' }, bearer('reader-token'))).status, 403);
  t.equal((await gw.request('GET', `/v1/sandboxes/${id}`, undefined, alice)).status, 200, 'still there for its owner');
});

t.test('quotas refuse a sandbox beyond the caller\'s count, memory or TTL cap, creating nothing', async (t) => {
  const ttl = await create({ image: BUSYBOX_IMAGE, ttl_seconds: 7200 });
  t.match(ttl, { status: 403, body: { error: { code: 'SLIPWAY_ERR_POLICY_DENIED', field: 'ttl_seconds' } } });
  const one = await create({ image: BUSYBOX_IMAGE });
  const memory = await create({ image: BUSYBOX_IMAGE, memory_limit: '128m' });
  t.match(memory, { status: 403, body: { error: { field: 'memory_limit' } } }, 'the memory sum would pass the cap');
  const two = await create({ image: BUSYBOX_IMAGE, memory_limit: '64m' });
  const three = await create({ image: BUSYBOX_IMAGE, memory_limit: '64m' });
  t.equal(three.status, 429, 'the count would pass the cap');
  t.equal((await gw.request('GET', '/v1/sandboxes', undefined, alice)).body.sandboxes.length, 2);
  await del(one.body.sandbox_id);
  await del(two.body.sandbox_id);
  const extended = await create({ image: BUSYBOX_IMAGE });
  t.equal((await gw.request('POST', `/v1/sandboxes/${extended.body.sandbox_id}/ttl`, { ttl_seconds: 7200 }, alice)).status, 403);
  const ok = await gw.request('POST', `/v1/sandboxes/${extended.body.sandbox_id}/ttl`, { ttl_seconds: 1800 }, alice);
  t.ok(Date.parse(ok.body.expires_at) > Date.now() + 1700_000, 'the TTL moved');
  await del(extended.body.sandbox_id);
});

t.test('an exec killed for memory ends oom_killed, and the sandbox lives on for the next exec', notOnPodman('Podman 4.3 sends no oom event for a process of a live container; podman.test.ts checks what it reports instead'), async (t) => {
  const { body } = await create({ image: BUSYBOX_IMAGE, memory_limit: '32m' });
  const id = body.sandbox_id;
  t.teardown(() => del(id));
  const oom = await exec(id, { command: ['sh', '-c', 'x=a; while :; do x=$x$x; done'] });
  t.match(oom.body, { status: 'oom_killed', exit_code: 137, error_message: /memory limit of 32 MiB/ });
  t.match((await exec(id, { command: ['echo', 'still here'] })).body, { status: 'succeeded', stdout: 'still here\n' });
});

t.test('a timed-out exec kills every process it started and the sandbox stays usable', async (t) => {
  const { body } = await create({ image: BUSYBOX_IMAGE });
  const id = body.sandbox_id;
  t.teardown(() => del(id));
  const slow = await exec(id, { command: ['sh', '-c', 'sleep 300 & sleep 301 & echo started; wait'], timeout: 1 });
  t.match(slow.body, { status: 'timed_out', success: false, stdout: 'started\n' });
  const ps = await exec(id, { command: ['ps', '-o', 'args'] });
  t.notMatch(ps.body.stdout, /sleep 30[01]/, 'the background sleeps were killed too');
  t.equal((await exec(id, { command: 'echo alive' })).body.stdout, 'alive\n');
});

t.test('an exec started with wait: false streams its log over SSE and can be cancelled', async (t) => {
  const { body } = await create({ image: BUSYBOX_IMAGE });
  const id = body.sandbox_id;
  t.teardown(() => del(id));
  const started = await exec(id, { command: ['sh', '-c', 'echo one; sleep 300'], wait: false });
  t.equal(started.status, 202);
  await waitFor(async () => (await gw.request('GET', `/v1/runs/${started.body.run_id}/events`, undefined, alice)).body.events?.some((e: any) => e.type === 'stdout'), { what: 'the first line' });
  const cancelled = await gw.request('DELETE', `/v1/runs/${started.body.run_id}`, undefined, alice);
  t.equal(cancelled.body.status, 'cancelled');
  const events = await readSse(`${gw.url}/v1/runs/${started.body.run_id}/logs`, alice);
  t.ok(events.some((e) => e.event === 'stdout' && JSON.stringify(e.data).includes('one')), 'the SSE stream replays the output');
  const after = await exec(id, { command: ['ps', '-o', 'args'] });
  t.notMatch(after.body.stdout, /sleep 300/, 'the cancelled exec\'s processes are gone');
  t.equal((await gw.request('GET', `/v1/runs/${started.body.run_id}`, undefined, alice)).body.status, 'cancelled');
});

t.test('an idle sandbox and one past its TTL are removed by the sweep', async (t) => {
  const idle = await create({ image: BUSYBOX_IMAGE, memory_limit: '64m', idle_timeout_seconds: 1 });
  const short = await create({ image: BUSYBOX_IMAGE, memory_limit: '64m', ttl_seconds: 2, idle_timeout_seconds: 600 });
  t.equal(short.status, 200, JSON.stringify(short.body));
  for (const s of [idle.body, short.body]) {
    await waitFor(async () => (await gw.request('GET', `/v1/sandboxes/${s.sandbox_id}`, undefined, alice)).status === 404, { what: 'the sweep', timeoutMs: 15_000 });
    await waitFor(async () => (await sandboxObjects(s.sandbox_id)).containers.length === 0, { what: 'the container to go' });
    t.same(await sandboxObjects(s.sandbox_id), { containers: [], volumes: [] });
  }
});

t.test('the MCP door works a sandbox the same way: create, write, exec, read, list, delete', async (t) => {
  const mcp = await connectClient(gw.url, { requestInit: { headers: alice } });
  t.teardown(() => mcp.close());
  const call = async (name: string, args: Record<string, unknown>) => (await mcp.client.callTool({ name, arguments: args })) as any;
  const created = await call('create_sandbox', { image: BUSYBOX_IMAGE, memory_limit: '64m' });
  const id = created.structuredContent.sandbox_id;
  t.match(created.structuredContent, { state: 'running', owner: 'alice' });
  t.match((await call('sandbox_write_files', { sandbox_id: id, files: [{ path: 'in.txt', content: 'abc' }] })).structuredContent, { written: [{ bytes: 3 }] });
  const ran = await call('sandbox_exec', { sandbox_id: id, command: ['sh', '-c', 'rev in.txt > out.txt && cat out.txt'] });
  t.match(ran.structuredContent, { status: 'succeeded', stdout: 'cba' });
  t.match((await call('sandbox_read_file', { sandbox_id: id, path: 'out.txt' })).structuredContent, { content: 'cba' });
  t.match((await call('sandbox_list_files', { sandbox_id: id })).structuredContent.entries.map((e: any) => e.name).sort(), ['in.txt', 'out.txt']);
  t.match((await call('list_sandboxes', {})).structuredContent.sandboxes, [{ sandbox_id: id }]);
  t.match((await call('extend_sandbox_ttl', { sandbox_id: id, ttl_seconds: 600 })).structuredContent, { sandbox_id: id });
  const missing = await call('get_sandbox', { sandbox_id: '00000000-0000-4000-8000-000000000000' });
  t.equal(missing.isError, true);
  t.match((await call('delete_sandbox', { sandbox_id: id })).structuredContent, { deleted: true });
  t.same(await sandboxObjects(id), { containers: [], volumes: [] });
});
