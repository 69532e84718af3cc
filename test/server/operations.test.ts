// Walks the operation table: every operation is on both doors with its scope, its
// input schema, its OpenAPI entry and one audit line per call; nothing is on one door
// only. An operation missing from a door, or a route or tool added beside the table,
// fails here.
import t from 'tap';
import { OPERATIONS, REST_ONLY_OPERATIONS } from '../../operations/index.js';
import { SHARED_FIELDS } from '../../operations/instructions.js';
import { NAMED_PATTERNS } from '../../schemas/named-formats.js';
import { authorize } from '../../operations/invoke.js';
import type { Scope } from '../../server/tokens.js';
import { startGateway } from '../fixtures/gateway.js';
import { connectClient } from '../fixtures/mcp.js';
import { exampleOf, openApiPath, restRequestOf } from '../fixtures/operations.js';
import { bearer, writeTokensFile } from '../fixtures/tokens.js';

const SCOPES: Scope[] = ['run', 'build', 'pull', 'read'];
// One token per scope, holding that scope only, and an admin.
const tokensFile = await writeTokensFile([
  ...SCOPES.map((scope) => ({ name: `only-${scope}`, token: `only-${scope}-token`, scopes: [scope] })),
  { name: 'admin', token: 'admin-token', scopes: ['admin'] as Scope[] },
]);
const logLines: string[] = [];
const gw = await startGateway({ SLIPWAY_TOKENS_FILE: tokensFile }, { logLines });
const admin = await connectClient(gw.url, { requestInit: { headers: bearer('admin-token') } });
t.teardown(async () => {
  await admin.close();
  await gw.close();
});
const openapi = (await gw.request('GET', '/openapi.json')).body;
const adminTools = new Map((await admin.client.listTools()).tools.map((tool) => [tool.name, tool]));
/** JSON as a client receives it: TypeBox's symbol keys do not travel. */
const asJson = (schema: unknown) => JSON.parse(JSON.stringify(schema));
/**
 * A schema without what only explains (`description`, `examples`), each named grammar spelled
 * as its expression (the validator reads them alike: test/schemas/named-formats.test.ts):
 * what remains decides what is accepted.
 */
function withoutProse(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutProse);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key]) => key !== 'description' && key !== 'examples')
      .map(([key, value]) => (key === 'format' && typeof value === 'string' && NAMED_PATTERNS[value] ? ['pattern', NAMED_PATTERNS[value]] : [key, value]))
      // Under `properties` the keys are field names, whatever they are called.
      .map(([key, value]) => [key, key === 'properties' || key === 'patternProperties' ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutProse(v)])) : withoutProse(value)]),
  );
}
const audits = () => logLines.map((line) => JSON.parse(line)).filter((line) => line.audit);
/** A token that lacks `scope`. */
const without = (scope: Scope) => `only-${SCOPES.find((s) => s !== scope)}-token`;

for (const op of OPERATIONS) {
  t.test(`${op.name} is on both doors with its scope, schema, documentation and audit`, async (t) => {
    const { method, path } = op.rest;
    t.ok(gw.app.hasRoute({ method, url: path }), `REST: ${method} ${path} exists`);
    const tool = adminTools.get(op.tool);
    t.ok(tool, `MCP: the tool ${op.tool} is listed`);
    t.same(withoutProse(tool?.inputSchema), withoutProse(asJson(op.input)), 'MCP: the input schema the REST door validates with, every keyword but prose and examples (shared grammars by name)');

    const entry = openapi.paths[openApiPath(path)]?.[method.toLowerCase()];
    t.ok(entry, 'OpenAPI: the path and method are documented');
    t.same(entry?.tags, [op.tag], 'OpenAPI: with its tag');
    t.equal(entry?.operationId, op.name);
    for (const status of ['200', '400', '401', '403', '429', '503', ...op.errors.map(String)]) {
      t.ok(entry?.responses[status]?.description, `OpenAPI: ${status} is documented with a description`);
    }
    if (op.reply === 'run') t.ok(entry?.responses['202']?.description, 'OpenAPI: 202 for `wait: false`');

    // A token without the scope: 403 on REST, one audit line.
    const before = audits().length;
    const request = restRequestOf(op, exampleOf(op));
    const refused = await gw.request(request.method, request.path, request.body, bearer(without(op.scope)));
    t.equal(refused.status, 403, 'REST: a token without the scope gets 403');
    t.match(refused.body.error, { code: 'SLIPWAY_ERR_SCOPE_MISSING', message: new RegExp(`"${op.scope}" scope`) });
    await new Promise((resolve) => setTimeout(resolve, 20)); // the line is written after the reply
    const restLines = audits().slice(before);
    t.equal(restLines.length, 1, 'one audit line for the REST call');
    t.match(restLines[0], { who: `only-${SCOPES.find((s) => s !== op.scope)}`, op: `${method} ${path}`, outcome: 403 });

    // The same token on MCP: the tool is not listed, and a call is refused with one audit line.
    const lacking = await connectClient(gw.url, { requestInit: { headers: bearer(without(op.scope)) } });
    t.teardown(() => lacking.close());
    const listed = (await lacking.client.listTools()).tools.map((tl) => tl.name);
    t.notOk(listed.includes(op.tool), 'MCP: the tool is absent from tools/list for a token without the scope');
    const mcpBefore = audits().length;
    const call = (await lacking.client.callTool({ name: op.tool, arguments: exampleOf(op) })) as any;
    t.equal(call.isError, true, 'MCP: the call is refused');
    t.match(call._meta['io.slipway/error'], { code: 'SLIPWAY_ERR_SCOPE_MISSING' });
    const mcpLines = audits().slice(mcpBefore);
    t.equal(mcpLines.length, 1, 'one audit line for the MCP call');
    t.match(mcpLines[0], { op: `mcp tools/call ${op.tool}`, outcome: 'SLIPWAY_ERR_SCOPE_MISSING' });
  });
}

// The one exemption from both doors: bytes in or out (operations/rest-only-operation.ts).
for (const op of REST_ONLY_OPERATIONS) {
  t.test(`${op.name} is REST only, says why, and has its scope, documentation and audit`, async (t) => {
    const { method, path } = op.rest;
    t.ok(gw.app.hasRoute({ method, url: path }), `REST: ${method} ${path} exists`);
    t.match(op.restOnly, /MCP/, 'it says why MCP cannot carry it');
    t.notOk([...adminTools.values()].some((tool) => tool.name === op.name), 'no MCP tool of its name');
    const entry = openapi.paths[openApiPath(path)]?.[method.toLowerCase()];
    t.same(entry?.tags, [op.tag], 'OpenAPI: documented with its tag');
    t.equal(entry?.operationId, op.name);
    t.match(entry?.summary, /REST only/, 'OpenAPI: the summary says REST only');
    for (const status of ['200', '400', '401', '403', '429', '503', ...op.errors.map(String)]) {
      t.ok(entry?.responses[status]?.description, `OpenAPI: ${status} is documented with a description`);
    }
    if (op.body) t.ok(entry?.requestBody?.content?.[op.body.contentType], `OpenAPI: the body is ${op.body.contentType}`);
    if ('stream' in op.output) t.ok(entry?.responses['200']?.content?.[op.output.stream.contentType], `OpenAPI: the answer is ${op.output.stream.contentType}`);

    const before = audits().length;
    const url = path.replace(':sandbox_id', '3f2b8c1e-5d4a-4e2f-9b6c-7a1d0e9f8c2b');
    const headers = { ...bearer(without(op.scope)), ...(op.body ? { 'content-type': op.body.contentType } : {}) };
    const res = await fetch(gw.url + url, { method, headers, ...(op.body ? { body: new Uint8Array(1024) } : {}) });
    t.equal(res.status, 403, 'a token without the scope gets 403');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const lines = audits().slice(before);
    t.equal(lines.length, 1, 'one audit line');
    t.match(lines[0], { op: `${method} ${path}`, outcome: 403 });
  });
}

t.test('nothing is on one door only', async (t) => {
  const tools = new Set(OPERATIONS.map((op) => op.tool));
  t.same([...adminTools.keys()].filter((name) => !tools.has(name)), [], 'every MCP tool is an operation of the table');
  const declared = new Set([...OPERATIONS, ...REST_ONLY_OPERATIONS].map((op) => `${op.rest.method.toLowerCase()} ${openApiPath(op.rest.path)}`));
  // The SSE log stream is REST only by design: a streaming transport (get_run_logs is its paged twin).
  const handWritten = new Set(['get /v1/runs/{run_id}/logs']);
  const restOnly = Object.entries<Record<string, unknown>>(openapi.paths)
    .filter(([path]) => path.startsWith('/v1/'))
    .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`))
    .filter((route) => !declared.has(route) && !handWritten.has(route));
  t.same(restOnly, [], 'every /v1 route is an operation of the table');
});

t.test('a call with nobody known to be calling fails closed', async (t) => {
  for (const who of [undefined, null, { caller: undefined, scopes: new Set<Scope>(['admin']) }]) {
    t.throws(() => authorize({ scope: 'read' }, who as never), { code: 'SLIPWAY_ERR_UNAUTHORIZED' });
  }
});

t.test('the OpenAPI document describes every response and parameter, and shows the bearer scheme when tokens are on', async (t) => {
  for (const [path, methods] of Object.entries<Record<string, any>>(openapi.paths)) {
    for (const [method, entry] of Object.entries(methods)) {
      for (const [status, response] of Object.entries<any>(entry.responses ?? {})) {
        t.ok(response.description && response.description !== 'Default Response', `${method} ${path} ${status} has a description`);
      }
      for (const parameter of entry.parameters ?? []) t.ok(parameter.description, `${method} ${path} parameter ${parameter.name} is described`);
    }
  }
  t.match(openapi.components.securitySchemes, { bearer: { type: 'http', scheme: 'bearer' } });
});

t.test('every input property is described in its own words, and each run operation says what is required', async (t) => {
  for (const op of OPERATIONS) {
    const properties = Object.entries<{ description?: string }>(op.input.properties);
    for (const [name, schema] of properties) t.ok(schema.description, `${op.tool}.${name} is described`);
    const texts = properties.map(([, schema]) => schema.description);
    t.equal(new Set(texts).size, texts.length, `${op.tool}: no two properties share a description`);
  }
  const facts = { networked: false, allowBuilds: true, buildNetwork: false, payloadUser: '65534:65534', languages: ['python'], limits: '' };
  for (const op of OPERATIONS.filter((o) => o.reply === 'run')) t.match(op.description(facts), /Required: /, `${op.tool} says what is required`);
});

t.test('on MCP every input property is described, in its tool or once in the instructions', async (t) => {
  const instructions = admin.client.getInstructions() ?? '';
  for (const [name, tool] of adminTools) {
    for (const [field, schema] of Object.entries((tool.inputSchema.properties ?? {}) as Record<string, { description?: string }>)) {
      if (schema.description) continue;
      const shared = SHARED_FIELDS.get(field);
      t.ok(shared && instructions.includes(`\`${field}\`: ${shared}`), `${name}.${field}: its shared description is in the instructions`);
    }
  }
});

// The issue measured 60.9 KB pretty-printed (34.6 KB on the wire) with twelve tools.
// The sandbox tools, get_server_info, list_runs and resource usage brought it to 52.7 KB.
// Saying each shared thing once (shared field descriptions and the limits in the
// instructions, examples left to OpenAPI, shared grammars by name, output schemas as the
// answer's own fields, default hints unsaid) brought it to 33.1 KB with twenty-one tools.
// The bound leaves about 2.5 KB for fields being added (files a payload returns, sandbox
// usage, pool information).
t.test('tools/list stays small: at most 35 500 bytes on the wire', async (t) => {
  const bytes = Buffer.byteLength(JSON.stringify(await admin.client.listTools()));
  t.ok(bytes <= 35_500, `tools/list is ${bytes} bytes`);
});
