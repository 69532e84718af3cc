/**
 * How every run-starting route answers: 200 with the result when it waited, 202 with
 * the run's record and a Location header when it did not. The Idempotency-Key header
 * is the REST spelling of the `idempotency_key` field.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { RunCallOptions } from '../lib/slipway.js';
import type { RunResult } from '../schemas/run-result.js';

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$', description: 'Retrying with the same key returns the same run.' })),
});

export function runCallOptions(request: FastifyRequest): RunCallOptions {
  const key = request.headers['idempotency-key'];
  return typeof key === 'string' ? { caller: request.caller, idempotencyKey: key } : { caller: request.caller };
}

export function sendRun(reply: FastifyReply, result: RunResult, waited: boolean): FastifyReply {
  if (waited) return reply.send(result);
  return reply.status(202).header('location', `/v1/runs/${result.run_id}`).send(result);
}
