// build_and_execute_github_repo on both doors: POST /v1/repos/run and the MCP tool,
// against the local git server and the real engine; runs, records, logs and cache.
import t from 'tap';
import { startGateway } from '../fixtures/gateway.js';
import { TEST_INSTANCE } from '../fixtures/docker.js';
import { waitUntilGone } from '../fixtures/engine-view.js';
import { FAIL_MARKER } from '../fixtures/git-repos.js';
import { connectClient } from '../fixtures/mcp.js';
import { pruneTestBuilds, startRepoFixture } from '../fixtures/repo-builds.js';
import { pollUntilFinal } from '../fixtures/runs.js';
import { readSse } from '../fixtures/sse.js';

const INSTANCE = `${TEST_INSTANCE}-repo-runs`;
const fx = await startRepoFixture();
const gw = await startGateway({
  SLIPWAY_INSTANCE: INSTANCE,
  SLIPWAY_GIT_ALLOWED_HOSTS: fx.server.hostPort,
  SLIPWAY_GIT_WORK_DIR: fx.workDir,
  SLIPWAY_BUILD_MEMORY_BYTES: String(256 * 1024 * 1024),
});
t.teardown(async () => {
  await gw.close();
  await pruneTestBuilds(INSTANCE);
  await fx.close();
});
const { c4, feature } = fx.repos.commits;
const repo = (body: Record<string, unknown>) => gw.request('POST', '/v1/repos/run', { repo_url: fx.url('app.git'), ...body });

t.test('builds the default branch with build arguments, runs it, and caches the image', async (t) => {
  const first = await repo({ build_args: { GREETING: 'hi from rest' }, command: ['cat', '/report.txt'] });
  t.equal(first.status, 200);
  t.match(first.body, { status: 'succeeded', exit_code: 0, commit_sha: c4, cache_hit: false, image_tag: /^slipway-build\//, image_id: /^sha256:/ });
  t.match(first.body.stdout, /greeting=hi from rest extra= version=c4/);
  t.match(first.body.build_log, /Successfully tagged/);
  t.ok(await waitUntilGone(first.body.container_id), 'the run\'s container is removed');
  const again = await repo({ build_args: { GREETING: 'hi from rest' } });
  t.match(again.body, { status: 'succeeded', cache_hit: true, image_id: first.body.image_id, stdout: 'c4' }, 'second call: cached image, default CMD');
  const record = await gw.request('GET', `/v1/runs/${again.body.run_id}`);
  t.match(record.body, { kind: 'repo', commit_sha: c4, cache_hit: true, image: first.body.image_tag });
});

t.test('a branch ref and a context subdirectory', async (t) => {
  const res = await repo({ ref: 'feature', context_path: 'sub', command: ['cat', '/report.txt'] });
  t.match(res.body, { status: 'succeeded', commit_sha: feature, stdout: /hello from sub/ });
});

t.test('asynchronously: the build streams into the run\'s log before the run\'s output', async (t) => {
  const start = await repo({ ref: 'v1.0', wait: false });
  t.equal(start.status, 202);
  const events = await readSse(`${gw.url}/v1/runs/${start.body.run_id}/logs`);
  const kinds = events.map((e) => e.event);
  t.ok(kinds.includes('build'), 'build lines are log events');
  t.ok(kinds.indexOf('build') < kinds.indexOf('stdout'), 'built, then ran');
  t.same(events.filter((e) => e.event === 'status').map((e) => e.data.data.status).slice(0, 3), ['queued', 'building', 'running']);
  t.match(await pollUntilFinal(gw, start.body.run_id), { status: 'succeeded', stdout: 'c1', kind: 'repo' });
});

t.test('a failing build: status failed with the failing step\'s output, no run', async (t) => {
  const res = await repo({ context_path: 'fail-run' });
  t.equal(res.status, 200);
  t.match(res.body, { status: 'failed', success: false, exit_code: null, container_id: null, image_id: null, error_message: /^build failed/ });
  t.match(res.body.stderr, new RegExp(FAIL_MARKER));
});

t.test('bad repository input: 4xx naming the field, nothing built', async (t) => {
  const missing = await repo({ context_path: 'nodockerfile' });
  t.match(missing, { status: 400, body: { error: { field: 'dockerfile_path' } } });
  const unknownRepo = await gw.request('POST', '/v1/repos/run', { repo_url: fx.url('nothing.git') });
  t.match(unknownRepo, { status: 404, body: { error: { field: 'repo_url' } } });
  const unknownRef = await repo({ ref: 'no-such-branch' });
  t.match(unknownRef, { status: 404, body: { error: { field: 'ref' } } });
  for (const url of ['file:///etc', 'ssh://git@example.com/x.git', 'ext::sh -c id', 'http://127.0.0.1:1/x.git', 'https://169.254.169.254/x']) {
    const res = await gw.request('POST', '/v1/repos/run', { repo_url: url });
    t.ok(res.status === 400 || res.status === 403, `${url}: ${res.status}`);
    t.equal(res.body.error.field, 'repo_url');
  }
  const badArg = await repo({ build_args: { 'BAD NAME': 'x' } });
  t.match(badArg, { status: 400, body: { error: { field: 'build_args' } } });
});

t.test('builds can be turned off by the server', async (t) => {
  const off = await startGateway({ SLIPWAY_ALLOW_BUILDS: 'false', SLIPWAY_GIT_ALLOWED_HOSTS: fx.server.hostPort });
  t.teardown(() => off.close());
  const res = await off.request('POST', '/v1/repos/run', { repo_url: fx.url('app.git') });
  t.match(res, { status: 403, body: { error: { code: 'SLIPWAY_ERR_POLICY_DENIED', field: 'repo_url' } } });
});

t.test('over MCP: the tool builds and runs, with build lines as log notifications', async (t) => {
  const mcp = await connectClient(gw.url);
  t.teardown(() => mcp.close());
  const logs: string[] = [];
  mcp.client.fallbackNotificationHandler = async (n) => {
    if (n.method === 'notifications/message') logs.push(JSON.stringify(n.params));
  };
  const res = (await mcp.client.callTool({ name: 'build_and_execute_github_repo', arguments: { repo_url: fx.url('app.git'), ref: 'light', command: ['cat', '/ctx/version.txt'] } })) as any;
  t.notOk(res.isError);
  t.match(res.structuredContent, { status: 'succeeded', stdout: 'c3', commit_sha: fx.repos.commits.c3 });
  t.match(res.content[0].text, /commit [0-9a-f]{40}, image slipway-build\//);
  t.ok(logs.some((l) => /"logger":"build"/.test(l)), 'build output arrived as log notifications');
});
