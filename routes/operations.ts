/**
 * The REST door of every operation (operations/): one generic route per declaration.
 * The input's fields are validated where the request carries them (path, query string
 * or body, by the same Ajv and schema as the MCP door), gathered into one plain input,
 * and handed to the operation's lib/ call. The scope is checked by server/plugins/auth.ts with
 * the operation's scope (the check both doors share), the audit line by server/plugins/audit.ts.
 */
import type { FastifyPluginAsync, FastifyReply, FastifySchema, RouteOptions } from 'fastify';
import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import type { Operation } from '../operations/operation.js';
import { described, errorReplies, type ErrorStatus } from '../schemas/error-reply.js';

/** Every operation may answer these (bad input, no or wrong token, scope or policy, rate limit, engine away). */
const COMMON_ERRORS: ErrorStatus[] = [400, 401, 403, 429, 503];

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$', description: 'Retrying with the same key returns the same run (the body\'s `idempotency_key`, spelled as a header).' }),
  ),
});

/** `input` without the fields the path carries, its examples likewise. */
function withoutPathFields(input: TObject, params: string[]): TObject {
  if (params.length === 0) return input;
  const examples = (input.examples as Record<string, unknown>[] | undefined)?.map((example) =>
    Object.fromEntries(Object.entries(example).filter(([key]) => !params.includes(key))),
  );
  return Type.Omit(input, params, { additionalProperties: false, ...(examples ? { examples } : {}) });
}

/** The OpenAPI and validation schema of an operation's route. */
export function restSchema(op: Operation): FastifySchema {
  const { params = [], rest, idempotencyHeader } = op.rest;
  const others = withoutPathFields(op.input, params);
  const success: Record<number, TSchema> =
    op.reply === 'run'
      ? {
          200: described(op.output, `${op.answer} It waited for the run's end; a non-zero exit is a 200 with \`success: false\`.`),
          202: described(op.output, 'Started with `"wait": false`: the run as it is now (`queued`); follow it at the Location header.'),
        }
      : { 200: described(op.output, op.answer) };
  const schema: FastifySchema = {
    tags: [op.tag],
    operationId: op.name,
    summary: `${op.title} (MCP tool ${op.tool})`,
    response: { ...success, ...errorReplies([...new Set([...COMMON_ERRORS, ...op.errors])].sort()) },
  };
  if (params.length > 0) schema.params = Type.Pick(op.input, params);
  if (Object.keys(others.properties).length > 0) {
    // `curl -X POST .../stop` with no body at all is the common call when nothing in it is required.
    if (rest === 'body') schema.body = others.required?.length ? others : Type.Optional(others);
    else schema.querystring = others;
  }
  if (idempotencyHeader) schema.headers = IdempotencyHeaders;
  return schema;
}

/** 200 with the result when the call waited, 202 with the run and a Location header when it did not. */
function send(op: Operation, reply: FastifyReply, input: { wait?: unknown }, result: { run_id?: unknown }): FastifyReply {
  if (op.reply === 'json' || input.wait !== false) return reply.send(result);
  return reply.status(202).header('location', `/v1/runs/${String(result.run_id)}`).send(result);
}

function restRoute(op: Operation, description: string): RouteOptions {
  const { method, path, rest } = op.rest;
  // A REST call is not cancelled by its client leaving: DELETE /v1/runs/{id} cancels.
  const neverAborted = new AbortController().signal;
  return {
    method,
    url: path,
    config: { scope: op.scope },
    schema: { ...restSchema(op), description },
    preValidation: async (request) => {
      if (rest === 'body') request.body ??= {};
    },
    handler: async (request, reply) => {
      const carried = { ...(rest === 'body' ? (request.body as object) : (request.query as object)), ...(request.params as object) };
      // Only the input's own fields: a query string no schema checked (get_run's) adds nothing.
      const input: Record<string, unknown> = Object.fromEntries(Object.entries(carried).filter(([key]) => key in op.input.properties));
      const key = request.headers['idempotency-key'];
      if (op.rest.idempotencyHeader && typeof key === 'string') input.idempotency_key = key;
      const result = (await op.call(input, { slipway: request.server.slipway, caller: request.caller, signal: neverAborted, onEvent: () => undefined })) as {
        run_id?: unknown;
      };
      request.operationResult = result;
      return send(op, reply, input, result);
    },
  };
}

export interface OperationRoutesOptions {
  operations: readonly Operation[];
  /** The operation's description for this server (operations/operation.ts ServerFacts). */
  describe: (op: Operation) => string;
}

const operationRoutes: FastifyPluginAsync<OperationRoutesOptions> = async (app, { operations, describe }) => {
  for (const op of operations) app.route(restRoute(op, describe(op)));
};

export default operationRoutes;
