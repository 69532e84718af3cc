// Invalid tool arguments are a tool result with isError naming the field (so a model
// can correct itself), and nothing reaches the engine: checked against the engine's own
// event log. An unknown tool stays a protocol error.
import t from 'tap';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { docker, TEST_INSTANCE } from '../fixtures/docker.js';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { connectClient } from '../fixtures/mcp.js';
import { LABEL_INSTANCE } from '../../lib/labels.js';

// An instance label of this file's own, so the engine's events show only what this gateway did.
const INSTANCE = `${TEST_INSTANCE}-mcp-input`;
const gw = await startGateway({ SLIPWAY_INSTANCE: INSTANCE });
const mcp = await connectClient(gw.url);
t.teardown(async () => {
  await mcp.close();
  await gw.close();
});

/** Engine create events for containers and volumes labelled with INSTANCE since `sinceMs`. */
async function createdSince(sinceMs: number): Promise<string[]> {
  const stream = await docker.getEvents({
    since: Math.floor(sinceMs / 1000) - 1,
    until: Math.ceil(Date.now() / 1000) + 1,
    filters: { label: [`${LABEL_INSTANCE}=${INSTANCE}`], event: ['create'] },
  });
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean);
}

const cases: [string, string, Record<string, unknown>, string][] = [
  ['privileged is not in the schema', 'execute_docker_container', { image: BUSYBOX_IMAGE, command: ['id'], privileged: true }, 'privileged'],
  ['host networking is not a network mode', 'execute_docker_container', { image: BUSYBOX_IMAGE, command: ['id'], network_mode: 'host' }, 'network_mode'],
  ['shell text in an image name', 'execute_docker_container', { image: 'alpine;rm', command: ['id'] }, 'image'],
  ['a bind mount smuggled in', 'execute_docker_container', { image: BUSYBOX_IMAGE, binds: ['/var/run/docker.sock:/var/run/docker.sock'] }, 'binds'],
  ['a shell operator in a string command', 'execute_docker_container', { image: BUSYBOX_IMAGE, command: 'echo a; rm -rf /' }, 'command'],
  ['the image is required', 'execute_docker_container', { command: ['id'] }, 'image'],
  ['a payload file escaping the workspace', 'execute_with_payload', { language: 'sh', files: [{ path: '../etc/passwd', content: 'x' }] }, 'files[0].path'],
  ['a payload without language or image', 'execute_with_payload', { payload: 'print(1)' }, 'language'],
  ['an unknown list filter', 'list_running_containers', { label: 'x' }, 'label'],
  ['a container reference with a path', 'stop_container', { container_id: '../../containers/x' }, 'container_id'],
  ['an image reference with a space', 'pull_docker_image', { image: 'busybox latest' }, 'image'],
];

t.test('invalid arguments: an isError result naming the field, and nothing created', async (t) => {
  const since = Date.now();
  for (const [what, name, args, field] of cases) {
    const res = (await mcp.client.callTool({ name, arguments: args })) as any;
    t.equal(res.isError, true, `${what}: a tool error`);
    t.match(res._meta['io.slipway/error'], { code: 'SLIPWAY_ERR_INVALID_INPUT', field }, `${what}: names ${field}`);
    t.match(res.content[0].text, /^SLIPWAY_ERR_INVALID_INPUT: /, `${what}: the text carries the code`);
    t.ok(res.content[0].text.includes(field.split(/[[.]/)[0]!), `${what}: the message says which field (${res.content[0].text})`);
  }
  t.same(await createdSince(since), [], 'the engine created no container and no volume');
});

t.test('an unknown tool is InvalidParams too', async (t) => {
  const err = await mcp.client.callTool({ name: 'no_such_tool', arguments: {} }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.match(err, { code: ErrorCode.InvalidParams, message: /unknown tool "no_such_tool"/ });
});

t.test('the same arguments, valid, do run (the refusals above were not about something else)', async (t) => {
  const res = (await mcp.client.callTool({ name: 'execute_docker_container', arguments: { image: BUSYBOX_IMAGE, command: ['id', '-u'], network_mode: 'none' } })) as any;
  t.match(res.structuredContent, { success: true, stdout: '0\n' });
});
