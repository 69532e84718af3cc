// Every MCP tool through the SDK's own client, against the real gateway and engine.
import t from 'tap';
import type { TSchema } from '@sinclair/typebox';
import { SANDBOX_OPERATIONS } from '../../operations/sandbox-operations.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { ContainerRunInput } from '../../schemas/container-run.js';
import { ListContainersInput, ListContainersResult, StopContainerInput, StopContainerResult } from '../../schemas/containers.js';
import { PullImageInput, PullImageResult } from '../../schemas/images.js';
import { PayloadRunInput } from '../../schemas/payload-run.js';
import { LanguageList, ListLanguagesInput } from '../../schemas/languages.js';
import { ServerInfo, ServerInfoInput } from '../../schemas/server-info.js';
import { PayloadRunResult, RunResult } from '../../schemas/run-result.js';
import { ListRunsInput, ListRunsResult, RunLogsInput, RunLogsResult, RunRecord, RunRef } from '../../schemas/runs.js';
import { RepoRunInput, RepoRunResult } from '../../schemas/repo-run.js';
import { SHARED_FIELDS } from '../../operations/instructions.js';
import { advertisedInput, advertisedOutput } from '../../server/mcp/advertised-schemas.js';
import { docker } from '../fixtures/docker.js';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { connectClient, containerGone, eventually } from '../fixtures/mcp.js';
import { REGISTRY, pushToRegistry } from '../fixtures/registry.js';

const gw = await startGateway();
const mcp = await connectClient(gw.url);
t.teardown(async () => {
  await mcp.close();
  await gw.close();
});
const call = (name: string, args: Record<string, unknown>) => mcp.client.callTool({ name, arguments: args }) as Promise<any>;

t.test('tools/list publishes the tools with the TypeBox schemas of the REST door', async (t) => {
  const { tools } = await mcp.client.listTools();
  const byName = Object.fromEntries(tools.map((tool) => [tool.name, tool]));
  t.same(Object.keys(byName).sort(), [
    'build_and_execute_github_repo',
    'cancel_run',
    'execute_docker_container',
    'execute_with_payload',
    'get_run',
    'get_run_logs',
    'get_server_info',
    'list_languages',
    'list_running_containers',
    'list_runs',
    'pull_docker_image',
    'stop_container',
    ...SANDBOX_OPERATIONS.map((op) => op.tool),
  ].sort());
  const expected: Record<string, [unknown, unknown]> = {
    execute_docker_container: [ContainerRunInput, RunResult],
    execute_with_payload: [PayloadRunInput, PayloadRunResult],
    list_running_containers: [ListContainersInput, ListContainersResult],
    stop_container: [StopContainerInput, StopContainerResult],
    pull_docker_image: [PullImageInput, PullImageResult],
    get_run: [RunRef, RunRecord],
    get_run_logs: [RunLogsInput, RunLogsResult],
    cancel_run: [RunRef, RunRecord],
    list_runs: [ListRunsInput, ListRunsResult],
    build_and_execute_github_repo: [RepoRunInput, RepoRunResult],
    list_languages: [ListLanguagesInput, LanguageList],
    get_server_info: [ServerInfoInput, ServerInfo],
    ...Object.fromEntries(SANDBOX_OPERATIONS.map((op) => [op.tool, [op.input, op.output]])),
  };
  for (const [name, [input, output]] of Object.entries(expected)) {
    t.same(byName[name]!.inputSchema, advertisedInput(input as TSchema, SHARED_FIELDS), `${name} inputSchema: the REST door's, each shared thing said once`);
    t.same(byName[name]!.outputSchema, advertisedOutput(output as TSchema), `${name} outputSchema: the answer's fields with their types`);
    t.ok(byName[name]!.description!.length > 120, `${name} has a description a model can choose by`);
  }
  // An absent hint means the protocol's default: not read-only, destructive, not idempotent, open world.
  const hint = (name: string) => ({ readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true, ...byName[name]!.annotations });
  t.match(hint('list_running_containers'), { readOnlyHint: true });
  t.match(hint('stop_container'), { destructiveHint: true });
  t.match(hint('get_run'), { readOnlyHint: true });
  t.match(hint('get_run_logs'), { readOnlyHint: true });
  t.match(hint('cancel_run'), { destructiveHint: true });
  t.match(hint('build_and_execute_github_repo'), { openWorldHint: true });
  t.match(hint('pull_docker_image'), { openWorldHint: true });
  // The test gateway allows no network, so runs do not reach the open world.
  t.match(hint('execute_docker_container'), { openWorldHint: false, readOnlyHint: false, destructiveHint: false });
  t.match(mcp.client.getInstructions(), /512m memory, 1 CPU, 256 processes, 60 s timeout/, 'the instructions state the server\'s actual defaults');
});

t.test('execute_docker_container runs busybox echo and removes the container', async (t) => {
  const res = await call('execute_docker_container', { image: BUSYBOX_IMAGE, command: ['echo', 'hello from mcp'] });
  t.notOk(res.isError);
  t.match(res.structuredContent, { success: true, exit_code: 0, stdout: 'hello from mcp\n', stderr: '', status: 'succeeded', image: BUSYBOX_IMAGE });
  t.match(res.content[0], { type: 'text', text: /status: succeeded, exit code 0/ });
  t.match(res.content[0].text, /stdout:\nhello from mcp/);
  t.ok(await eventually(() => containerGone(res.structuredContent.container_id)), 'container gone (docker inspect 404)');
});

t.test('a failing process is a normal result, not a tool error', async (t) => {
  const res = await call('execute_docker_container', { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo oops >&2; exit 3'] });
  t.notOk(res.isError);
  t.match(res.structuredContent, { success: false, exit_code: 3, stderr: 'oops\n', status: 'failed', error_message: /exited with code 3/ });
  t.match(res.content[0].text, /status: failed, exit code 3[\s\S]*stderr:\noops/);
});

t.test('execute_with_payload runs python and sh presets', async (t) => {
  const py = await call('execute_with_payload', { language: 'python', payload: 'print(2+2)' });
  t.match(py.structuredContent, { success: true, exit_code: 0, stdout: '4\n', status: 'succeeded' });
  const sh = await call('execute_with_payload', { language: 'sh', files: [{ path: 'main.sh', content: 'echo "sh says $(id -u)"\n' }] });
  t.match(sh.structuredContent, { success: true, stdout: 'sh says 65534\n' }, 'payloads run as the unprivileged user');
});

t.test('execute_with_payload hands back the files return_files names, and get_run keeps them', async (t) => {
  const res = await call('execute_with_payload', { language: 'sh', payload: 'echo result > out.txt; printf "\\377" > raw.bin', return_files: ['out.txt', 'raw.bin', 'x.txt'] });
  t.match(res.structuredContent, { status: 'succeeded', files_truncated: false });
  t.same(res.structuredContent.files, [
    { path: 'out.txt', size: 7, encoding: 'utf8', content: 'result\n', truncated: false },
    { path: 'raw.bin', size: 1, encoding: 'base64', content: '/w==', truncated: false },
  ]);
  t.same(res.structuredContent.files_refused, [{ path: 'x.txt', reason: 'nothing matched' }]);
  const record = await call('get_run', { run_id: res.structuredContent.run_id });
  t.same(record.structuredContent.files, res.structuredContent.files);
  const escape = await call('execute_with_payload', { language: 'sh', payload: 'true', return_files: ['../etc/passwd'] });
  t.equal(escape.isError, true);
  t.match(escape.content[0].text, /return_files\[0\] must not contain \.\./);
});

t.test('execution failures are isError results carrying the catalogue code', async (t) => {
  const missing = await call('execute_docker_container', { image: 'slipway-test/not-there:1', pull_policy: 'never' });
  t.equal(missing.isError, true);
  t.match(missing.content[0].text, /^SLIPWAY_ERR_IMAGE_NOT_FOUND: /);
  t.match(missing._meta['io.slipway/error'], { code: 'SLIPWAY_ERR_IMAGE_NOT_FOUND', field: 'image' });
  const denied = await call('execute_docker_container', { image: BUSYBOX_IMAGE, command: ['true'], network_mode: 'bridge' });
  t.equal(denied.isError, true);
  t.match(denied._meta['io.slipway/error'], { code: 'SLIPWAY_ERR_POLICY_DENIED', field: 'network_mode' });
  const unknown = await call('stop_container', { container_id: 'no-such-container-here' });
  t.match(unknown._meta['io.slipway/error'], { code: 'SLIPWAY_ERR_CONTAINER_NOT_FOUND' });
});

t.test('list_running_containers shows a run started by another call; stop_container ends it cancelled', async (t) => {
  // The container id arrives with the `running` status notification of the first call.
  let containerId: string | undefined;
  mcp.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    const data = n.params.data as { event?: string; status?: string; container_id?: string };
    if (data?.event === 'status' && data.status === 'running') containerId ??= data.container_id;
  });
  t.teardown(() => mcp.client.removeNotificationHandler('notifications/message'));
  const sleeper = call('execute_docker_container', { image: BUSYBOX_IMAGE, command: ['sleep', '60'], timeout: 120 });

  t.ok(await eventually(() => containerId !== undefined), 'the run reported its container');
  const listed = await call('list_running_containers', { state: 'running' });
  t.notOk(listed.isError);
  const mine = listed.structuredContent.containers.find((c: { id: string }) => c.id === containerId);
  t.match(mine, { state: 'running', image: BUSYBOX_IMAGE, run_id: /^[0-9a-f-]{36}$/ });
  t.match(listed.content[0].text, new RegExp(containerId!.slice(0, 12)));

  const stopped = await call('stop_container', { container_id: containerId!.slice(0, 12), timeout: 1 });
  t.notOk(stopped.isError);
  t.same(stopped.structuredContent, { success: true, container_id: containerId, was_running: true, run_id: mine.run_id });

  const ended = await sleeper;
  t.match(ended.structuredContent, { success: false, status: 'cancelled', run_id: mine.run_id });
  t.ok(await eventually(() => containerGone(containerId!)), 'container gone (docker inspect 404)');
});

t.test('stop_container accepts a run id', async (t) => {
  const started = await call('execute_docker_container', { image: BUSYBOX_IMAGE, command: ['sleep', '60'], timeout: 120, wait: false });
  const runId = started.structuredContent.run_id as string;
  t.ok(await eventually(async () => (await call('get_run', { run_id: runId })).structuredContent.status === 'running'), 'the run is running');
  const stopped = await call('stop_container', { container_id: runId, timeout: 1 });
  t.notOk(stopped.isError);
  t.match(stopped.structuredContent, { success: true, container_id: /^[0-9a-f]{64}$/, was_running: true, run_id: runId });
  t.ok(await eventually(async () => (await call('get_run', { run_id: runId })).structuredContent.status === 'cancelled'), 'the run ends cancelled');
});

t.test('pull_docker_image pulls from the local registry after the image was removed', async (t) => {
  // A tag of this test's own, so pull tests of the REST door running at the same time do not race it.
  const image = `${REGISTRY}/slipway-test/busybox:mcp-pull`;
  await pushToRegistry(docker, BUSYBOX_IMAGE, image);
  await docker.getImage(image).remove();
  t.teardown(() => docker.getImage(image).remove().catch(() => undefined));
  const before = await docker.getImage(image).inspect().then(() => 200, (err: { statusCode?: number }) => err.statusCode);
  t.equal(before, 404, 'not present locally before the pull');

  const progress: string[] = [];
  const res = (await mcp.client.callTool({ name: 'pull_docker_image', arguments: { image } }, undefined, {
    onprogress: (p) => progress.push(p.message ?? ''),
  })) as any;
  t.notOk(res.isError);
  t.match(res.structuredContent, { success: true, image, image_id: /^sha256:/, digest: /^sha256:/ });
  t.match(res.content[0].text, /^pulled 127\.0\.0\.1:5055\/slipway-test\/busybox:mcp-pull/);
  t.ok(progress.some((m) => m.startsWith('pulling image')), 'pull progress was reported');
  const info = await docker.getImage(image).inspect();
  t.equal(info.Id, res.structuredContent.image_id, 'the engine has the pulled image');
});
