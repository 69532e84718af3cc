/**
 * The REST door of the REST-only operations (operations/rest-only-operation.ts): bodies
 * and answers of raw bytes. Like routes/operations.ts, one route per declaration, with
 * the operation's scope (server/plugins/auth.ts), audit line (server/plugins/audit.ts)
 * and OpenAPI entry; a binary body is taken as bytes up to the operation's own bound
 * (a 413 beyond it, before anything runs), and a streamed answer is sent as it comes.
 */
import type { FastifyPluginAsync, FastifySchema, RouteOptions } from 'fastify';
import { Type } from '@sinclair/typebox';
import { SlipwayError } from '../lib/errors.js';
import type { Config } from '../server/config.js';
import type { RestOnlyOperation, StreamedAnswer } from '../operations/rest-only-operation.js';
import { described, errorReplies, type ErrorStatus } from '../schemas/error-reply.js';

const COMMON_ERRORS: ErrorStatus[] = [400, 401, 403, 429, 503];

export function restOnlySchema(op: RestOnlyOperation): FastifySchema {
  const { params } = op.rest;
  const query = Type.Omit(op.input, params, { additionalProperties: false });
  const success =
    'json' in op.output
      ? { 200: described(op.output.json, op.output.answer) }
      : { 200: { description: op.output.stream.description, content: { [op.output.stream.contentType]: { schema: { description: op.output.stream.description } } } } };
  const schema: FastifySchema = {
    tags: [op.tag],
    operationId: op.name,
    summary: `${op.title} (REST only: ${op.restOnly})`,
    params: Type.Pick(op.input, params),
    querystring: query,
    response: { ...success, ...errorReplies([...new Set([...COMMON_ERRORS, ...op.errors])].sort()) },
  };
  // No type: the bytes arrive as a Buffer, which the schema documents and does not reshape.
  if (op.body) schema.body = { content: { [op.body.contentType]: { schema: { description: op.body.description } } } };
  return schema;
}

/**
 * Bodies of bytes are held whole in memory until the operation has checked them: each
 * caller may have only `perCaller` of them in flight (429 beyond), counted from before
 * the body is read until the answer is sent or the client goes away.
 */
function bodiesInFlight(op: RestOnlyOperation, config: Config): Pick<RouteOptions, 'preParsing' | 'onResponse' | 'onRequestAbort'> {
  if (!op.body) return {};
  const most = op.body.perCaller(config);
  const inFlight = new Map<string, number>();
  const held = new WeakSet<object>();
  const release = async (request: { caller?: { name: string | null } | undefined }) => {
    if (!held.has(request)) return;
    held.delete(request);
    const owner = request.caller?.name ?? '';
    const left = (inFlight.get(owner) ?? 1) - 1;
    if (left > 0) inFlight.set(owner, left);
    else inFlight.delete(owner);
  };
  return {
    preParsing: async (request, _reply, payload) => {
      const owner = request.caller?.name ?? '';
      const count = inFlight.get(owner) ?? 0;
      if (count >= most) {
        throw new SlipwayError('SLIPWAY_ERR_RATE_LIMITED', `this caller already sends ${count} ${op.name} bodies at once, its limit; retry when one has finished`, { retryAfterSeconds: 1 });
      }
      inFlight.set(owner, count + 1);
      held.add(request);
      return payload;
    },
    onResponse: release,
    onRequestAbort: release,
  };
}

function restOnlyRoute(op: RestOnlyOperation, config: Config, description: string): RouteOptions {
  const neverAborted = new AbortController().signal;
  return {
    method: op.rest.method,
    url: op.rest.path,
    config: { scope: op.scope },
    ...(op.body ? { bodyLimit: op.body.maxBytes(config) } : {}),
    ...bodiesInFlight(op, config),
    schema: { ...restOnlySchema(op), description: `${description}\n\nREST only: ${op.restOnly}.` },
    handler: async (request, reply) => {
      const carried = { ...(request.query as object), ...(request.params as object) };
      const input = Object.fromEntries(Object.entries(carried).filter(([key]) => key in op.input.properties));
      const body = Buffer.isBuffer(request.body) ? request.body : undefined;
      const result = await op.call(input, { slipway: request.server.slipway, caller: request.caller, signal: neverAborted, body });
      if ('json' in op.output) {
        request.operationResult = result;
        return reply.send(result);
      }
      const { stream, fileName } = result as StreamedAnswer;
      return reply
        .type(op.output.stream.contentType)
        .header('content-disposition', `attachment; filename="${fileName.replace(/[^\w.-]/g, '_')}"`)
        .send(stream);
    },
  };
}

export interface RestOnlyRoutesOptions {
  operations: readonly RestOnlyOperation[];
  config: Config;
  describe: (op: RestOnlyOperation) => string;
}

const restOnlyRoutes: FastifyPluginAsync<RestOnlyRoutesOptions> = async (app, { operations, config, describe }) => {
  // Bytes as they came, for the operations that declare them; each route bounds its own size.
  const types = [...new Set(operations.flatMap((op) => (op.body ? [op.body.contentType] : [])))];
  if (types.length > 0) app.addContentTypeParser(types, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  for (const op of operations) app.route(restOnlyRoute(op, config, describe(op)));
};

export default restOnlyRoutes;
