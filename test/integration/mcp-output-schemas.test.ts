// tools/list publishes lean output schemas (server/mcp/advertised-schemas.ts); a client
// may validate every structured result against them, as the SDK's own client does. Each
// answer here, from the real gateway and engine, must validate against the schema its
// tool advertises: runs (waited for and not), payloads, sandboxes, lists and records.
import t, { type Test } from 'tap';
import { Ajv } from 'ajv';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { connectClient } from '../fixtures/mcp.js';
import { removeSandboxesOf } from '../fixtures/sandboxes.js';

const gw = await startGateway();
const mcp = await connectClient(gw.url);
t.teardown(async () => {
  await mcp.close();
  await gw.close();
  await removeSandboxesOf(gw.instance);
});
// Listing first also makes the SDK client validate every later result itself.
const tools = new Map<string, Tool>((await mcp.client.listTools()).tools.map((tool) => [tool.name, tool]));
// A client's validator, not the server's: strict about what the schema says, nothing more.
const clientAjv = new Ajv({ strict: false, allErrors: true });
const checked = new Set<string>();

/** Calls `name` and checks its structured result against the tool's advertised outputSchema. */
async function callChecked(t: Test, name: string, args: Record<string, unknown>): Promise<any> {
  const result = (await mcp.client.callTool({ name, arguments: args })) as any;
  t.notOk(result.isError, `${name} answered: ${result.isError ? result.content?.[0]?.text : 'ok'}`);
  const validate = clientAjv.compile(tools.get(name)!.outputSchema!);
  const valid = validate(result.structuredContent);
  t.ok(valid, `${name}: the answer validates against the advertised outputSchema`, { errors: validate.errors, answer: result.structuredContent });
  checked.add(name);
  return result.structuredContent;
}

t.test('run, payload and record tools answer within their advertised output schemas', async (t) => {
  const ran = await callChecked(t, 'execute_docker_container', { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
  t.match(ran, { status: 'failed', exit_code: 3 });
  await callChecked(t, 'execute_with_payload', { language: 'sh', payload: 'echo hi' });
  const queued = await callChecked(t, 'execute_docker_container', { image: BUSYBOX_IMAGE, command: ['sleep', '30'], wait: false });
  await callChecked(t, 'get_run', { run_id: queued.run_id });
  await callChecked(t, 'cancel_run', { run_id: queued.run_id });
  await callChecked(t, 'get_run_logs', { run_id: ran.run_id });
  await callChecked(t, 'list_runs', { include: 'output' });
  await callChecked(t, 'list_runs', {});
  await callChecked(t, 'list_languages', {});
  await callChecked(t, 'get_server_info', {});
  await callChecked(t, 'list_running_containers', {});
});

t.test('sandbox tools answer within their advertised output schemas', async (t) => {
  const sandbox = await callChecked(t, 'create_sandbox', { image: BUSYBOX_IMAGE, memory_limit: '64m', labels: { task: 'schemas' } });
  const id = sandbox.sandbox_id;
  await callChecked(t, 'sandbox_write_files', { sandbox_id: id, files: [{ path: 'a.txt', content: 'abc' }, { path: 'b.bin', content: 'AAE=', encoding: 'base64' }] });
  await callChecked(t, 'sandbox_exec', { sandbox_id: id, command: ['cat', 'a.txt'] });
  await callChecked(t, 'sandbox_read_file', { sandbox_id: id, path: 'b.bin' });
  await callChecked(t, 'sandbox_list_files', { sandbox_id: id });
  await callChecked(t, 'get_sandbox', { sandbox_id: id });
  await callChecked(t, 'list_sandboxes', {});
  await callChecked(t, 'extend_sandbox_ttl', { sandbox_id: id, ttl_seconds: 600 });
  await callChecked(t, 'delete_sandbox', { sandbox_id: id });
});

t.test('the advertised output schemas still say something: a wrong answer fails them', async (t) => {
  const runSchema = clientAjv.compile(tools.get('execute_docker_container')!.outputSchema!);
  t.notOk(runSchema({ success: true }), 'a run result without its fields');
  const sandboxSchema = clientAjv.compile(tools.get('get_sandbox')!.outputSchema!);
  t.notOk(sandboxSchema({ ...fakeSandbox(), state: 'sleeping' }), 'a sandbox state outside the enum');
  t.notOk(sandboxSchema({ ...fakeSandbox(), memory_bytes: '64m' }), 'a number given as text');
  // pull_docker_image and stop_container need a registry or a run of their own; mcp-tools.test.ts calls them with the same client checks.
  const untested = [...tools.keys()].filter((name) => !checked.has(name));
  t.same(untested.sort(), ['build_and_execute_github_repo', 'pull_docker_image', 'stop_container'], 'every other tool was called here');
});

function fakeSandbox() {
  return {
    sandbox_id: 'x', state: 'running', owner: null, image: 'busybox', container_id: null, created_at: '', last_activity_at: '', expires_at: '',
    idle_expires_at: '', idle_timeout_seconds: 1, memory_bytes: 1, workspace: '', working_dir: '', labels: {},
  };
}
