// Languages on both doors: GET /v1/languages and list_languages list what this server
// offers, and a language added through configuration runs end to end (on the local
// busybox image: the suite cannot pull official images).
import t from 'tap';
import { startGateway, TEST_PRESETS } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { connectClient } from '../fixtures/mcp.js';

const AWK = { image: BUSYBOX_IMAGE, file: 'main.awk', command: ['awk', '-f', 'main.awk'] };
const GREET = { image: BUSYBOX_IMAGE, file: 'main.sh', command: ['sh', 'main.sh'], env: { GREETING: 'hello from the preset' } };
const gw = await startGateway({ SLIPWAY_LANGUAGE_PRESETS: JSON.stringify({ ...TEST_PRESETS, awk: AWK, greet: GREET }) });
const mcp = await connectClient(gw.url);
t.teardown(async () => {
  await mcp.close();
  await gw.close();
});

t.test('GET /v1/languages lists the built-in and the configured languages with image, file and command', async (t) => {
  const res = await gw.request('GET', '/v1/languages');
  t.equal(res.status, 200);
  const byName = Object.fromEntries(res.body.languages.map((l: { name: string }) => [l.name, l]));
  for (const name of ['python', 'node', 'typescript', 'deno', 'bun', 'ruby', 'go', 'rust', 'java', 'php', 'perl', 'r', 'bash', 'sh']) t.ok(byName[name], name);
  t.same(byName.awk, { name: 'awk', ...AWK });
  t.match(byName.python, { image: TEST_PRESETS.python.image, file: 'main.py', command: ['python3', '-B', 'main.py'] }, 'configured fields replace the defaults');
});

t.test('a language added through configuration runs end to end', async (t) => {
  const res = await gw.request('POST', '/v1/payloads/run', { language: 'awk', payload: 'BEGIN { print 6 * 7 }' });
  t.match(res, { status: 200, body: { status: 'succeeded', stdout: '42\n', image: BUSYBOX_IMAGE } });
});

t.test('a preset\'s environment is set, and the caller\'s own environment wins', async (t) => {
  const preset = await gw.request('POST', '/v1/payloads/run', { language: 'greet', payload: 'echo "$GREETING"' });
  t.match(preset.body, { status: 'succeeded', stdout: 'hello from the preset\n' });
  const own = await gw.request('POST', '/v1/payloads/run', { language: 'greet', payload: 'echo "$GREETING"', environment: { GREETING: 'mine' } });
  t.match(own.body, { status: 'succeeded', stdout: 'mine\n' });
});

t.test('an unknown language is a 400 that lists the languages, configured ones included', async (t) => {
  const res = await gw.request('POST', '/v1/payloads/run', { language: 'constructor', payload: 'x' });
  t.match(res, { status: 400, body: { error: { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'language', message: /^language must be one of python, .*awk, greet \(got "constructor"\)$/ } } });
});

t.test('list_languages answers the same list over MCP, and the payload tool names the languages', async (t) => {
  const listed = (await mcp.client.callTool({ name: 'list_languages', arguments: {} })) as any;
  t.notOk(listed.isError);
  t.same(listed.structuredContent, (await gw.request('GET', '/v1/languages')).body);
  t.match(listed.content[0].text, /^awk: slipway-test\/busybox:1, main\.awk, awk -f main\.awk$/m);
  const { tools } = await mcp.client.listTools();
  const payloadTool = tools.find((tool) => tool.name === 'execute_with_payload')!;
  t.match(payloadTool.description, /python, node, typescript, deno, bun, ruby, go, rust, java, php, perl, r, bash, sh, awk, greet/);
  const ran = (await mcp.client.callTool({ name: 'execute_with_payload', arguments: { language: 'awk', payload: 'BEGIN { print "via mcp" }' } })) as any;
  t.match(ran.structuredContent, { status: 'succeeded', stdout: 'via mcp\n' });
});
