import t from 'tap';
import Fastify, { type FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ERROR_CATALOGUE, SlipwayError, type ErrorCode } from '../../lib/errors.js';
import { ContainerRunInput } from '../../schemas/container-run.js';
import { PayloadRunInput } from '../../schemas/payload-run.js';
import { ajv, queryAjv } from '../../schemas/validator.js';
import { MCP_ERROR_META_KEY, toErrorReply, toMcpToolError, toSlipwayError } from '../../server/error-reply.js';

t.test('catalogue errors keep their status, code, message and field', async (t) => {
  for (const code of Object.keys(ERROR_CATALOGUE) as ErrorCode[]) {
    if (code === 'SLIPWAY_ERR_INTERNAL') continue;
    const reply = toErrorReply(new SlipwayError(code, `about ${code}`, { field: 'x.y' }));
    t.equal(reply.statusCode, ERROR_CATALOGUE[code].status, `${code} status`);
    t.strictSame(reply.body, { error: { code, message: `about ${code}`, field: 'x.y' } }, `${code} body`);
    if (code !== 'SLIPWAY_ERR_UNAUTHORIZED') t.strictSame(reply.headers, {}, `${code} headers`);
  }
  t.strictSame(toErrorReply(new SlipwayError('SLIPWAY_ERR_RUN_NOT_FOUND', 'no run r1')).body, { error: { code: 'SLIPWAY_ERR_RUN_NOT_FOUND', message: 'no run r1' } }, 'no field key without a field');
});

t.test('rate limiting carries Retry-After', async (t) => {
  const reply = toErrorReply(new SlipwayError('SLIPWAY_ERR_RATE_LIMITED', 'busy', { retryAfterSeconds: 7 }));
  t.equal(reply.statusCode, 429);
  t.strictSame(reply.headers, { 'retry-after': '7' });
  t.strictSame(toErrorReply(new SlipwayError('SLIPWAY_ERR_RATE_LIMITED', 'busy', { retryAfterSeconds: 0 })).headers, { 'retry-after': '0' });
});

t.test('401 asks for a bearer token, saying when the one given was wrong', async (t) => {
  t.strictSame(toErrorReply(new SlipwayError('SLIPWAY_ERR_UNAUTHORIZED', 'token required')).headers, { 'www-authenticate': 'Bearer realm="slipway"' });
  t.strictSame(toErrorReply(new SlipwayError('SLIPWAY_ERR_UNAUTHORIZED', 'unknown token', { field: 'authorization' })).headers, {
    'www-authenticate': 'Bearer realm="slipway", error="invalid_token"',
  });
});

t.test('500s never show their message; anything unknown is a 500', async (t) => {
  const secret = new Error('ENOENT: /var/lib/slipway/secret-token');
  const wrapped = toSlipwayError(secret);
  t.equal(wrapped.code, 'SLIPWAY_ERR_INTERNAL');
  t.equal(wrapped.cause, secret, 'the cause is kept for the log');
  for (const err of [secret, new SlipwayError('SLIPWAY_ERR_INTERNAL', 'db at /srv/x broke'), new TypeError('x is undefined'), 'a string', 42, { statusCode: 502, message: 'upstream' }]) {
    t.strictSame(toErrorReply(err), { statusCode: 500, body: { error: { code: 'SLIPWAY_ERR_INTERNAL', message: 'internal error' } }, headers: {} }, String(err));
  }
});

t.test('throwing null or undefined still becomes a 500, not a crash in the handler', async (t) => {
  for (const err of [null, undefined]) {
    t.equal(toErrorReply(err).statusCode, 500, String(err));
  }
});

t.test('errors with a bare status: 429 and 400 are kept, the rest are internal', async (t) => {
  t.match(toSlipwayError({ statusCode: 429, message: 'slow down' }), { code: 'SLIPWAY_ERR_RATE_LIMITED', message: 'slow down' });
  t.match(toSlipwayError({ statusCode: 400, message: 'bad header' }), { code: 'SLIPWAY_ERR_INVALID_INPUT', message: 'bad header' });
  t.match(toSlipwayError({ statusCode: 400 }), { code: 'SLIPWAY_ERR_INTERNAL' }, 'a 400 without a message');
});

t.test('MCP: every error, invalid input included, is an isError result carrying the code and the field', async (t) => {
  t.strictSame(toMcpToolError(new SlipwayError('SLIPWAY_ERR_INVALID_INPUT', 'files[0].path must not contain ..', { field: 'files[0].path' })), {
    isError: true,
    content: [{ type: 'text', text: 'SLIPWAY_ERR_INVALID_INPUT: files[0].path must not contain ..' }],
    _meta: { [MCP_ERROR_META_KEY]: { code: 'SLIPWAY_ERR_INVALID_INPUT', message: 'files[0].path must not contain ..', field: 'files[0].path' } },
  });
  t.strictSame(toMcpToolError(new SlipwayError('SLIPWAY_ERR_RUN_NOT_FOUND', 'no run r1')), {
    isError: true,
    content: [{ type: 'text', text: 'SLIPWAY_ERR_RUN_NOT_FOUND: no run r1' }],
    _meta: { [MCP_ERROR_META_KEY]: { code: 'SLIPWAY_ERR_RUN_NOT_FOUND', message: 'no run r1' } },
  });
  t.match(toMcpToolError(new Error('/secret/path')), { content: [{ text: 'SLIPWAY_ERR_INTERNAL: internal error' }] });
});

// Fastify's own errors, produced for real by an app wired like server/app.ts.
async function app(): Promise<FastifyInstance> {
  const fastify = Fastify({ bodyLimit: 1024 });
  fastify.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'querystring' ? queryAjv : ajv).compile(schema));
  fastify.setErrorHandler((err, _request, reply) => {
    const { statusCode, body, headers } = toErrorReply(err);
    return reply.status(statusCode).headers(headers).send(body);
  });
  fastify.post('/containers', { schema: { body: ContainerRunInput } }, async () => ({ ok: true }));
  fastify.post('/payloads', { schema: { body: PayloadRunInput } }, async () => ({ ok: true }));
  fastify.get('/list', { schema: { querystring: Type.Object({ all: Type.Optional(Type.Boolean()) }, { additionalProperties: false }) } }, async () => ({ ok: true }));
  fastify.get('/busy', async () => {
    throw new SlipwayError('SLIPWAY_ERR_RATE_LIMITED', 'queue full', { retryAfterSeconds: 5 });
  });
  t.teardown(() => fastify.close());
  return fastify;
}

t.test('Fastify validation errors become 400s naming the field', async (t) => {
  const f = await app();
  const post = async (url: string, payload: unknown) => {
    const res = await f.inject({ method: 'POST', url, payload: payload as object });
    return { status: res.statusCode, error: res.json().error };
  };
  t.strictSame(await post('/containers', { image: 'x', privileged: true }), {
    status: 400,
    error: { code: 'SLIPWAY_ERR_INVALID_INPUT', message: 'privileged is not an accepted field', field: 'privileged' },
  });
  t.strictSame((await post('/containers', {})).error, { code: 'SLIPWAY_ERR_INVALID_INPUT', message: 'image is required', field: 'image' });
  t.strictSame((await post('/payloads', { files: [{ path: 'a', content: '' }, { content: '' }] })).error.field, 'files[1].path');
  t.strictSame((await post('/containers', { image: 'x', environment: { 'BAD-NAME': 'v' } })).error.field, 'environment.BAD-NAME');
  t.strictSame((await post('/containers', [])).error, { code: 'SLIPWAY_ERR_INVALID_INPUT', message: 'body must be object', field: 'body' });
  const query = await f.inject({ method: 'GET', url: '/list?all=maybe' });
  t.equal(query.statusCode, 400);
  t.match(query.json().error, { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'all', message: 'all must be boolean' });
  const extra = await f.inject({ method: 'GET', url: '/list?nope=1' });
  t.match(extra.json().error, { field: 'nope', message: 'nope is not an accepted field' });
});

t.test('Fastify body errors: too large is 413; bad JSON and media types are 400 on body', async (t) => {
  const f = await app();
  const big = await f.inject({ method: 'POST', url: '/containers', payload: { image: 'x', stdin: 'y'.repeat(2000) } });
  t.equal(big.statusCode, 413);
  t.equal(big.json().error.code, 'SLIPWAY_ERR_PAYLOAD_TOO_LARGE');
  for (const [payload, type] of [['{"image":', 'application/json'], ['', 'application/json'], ['image=x', 'text/plain']]) {
    const res = await f.inject({ method: 'POST', url: '/containers', payload, headers: { 'content-type': type! } });
    t.equal(res.statusCode, 400, `${type} ${JSON.stringify(payload)}`);
    t.match(res.json().error, { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'body' });
  }
});

t.test('a thrown SlipwayError reaches the client with its Retry-After header', async (t) => {
  const res = await (await app()).inject({ method: 'GET', url: '/busy' });
  t.equal(res.statusCode, 429);
  t.equal(res.headers['retry-after'], '5');
  t.strictSame(res.json(), { error: { code: 'SLIPWAY_ERR_RATE_LIMITED', message: 'queue full' } });
});
