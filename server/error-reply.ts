/**
 * The one place where errors become replies: SlipwayErrors carry their catalogue code
 * and status; Fastify's own errors (validation, body size, bad JSON) are translated
 * into catalogue codes here. 500s never show their message or stack to the caller.
 */
import type { FastifyError } from 'fastify';
import { ErrorCode as JsonRpcErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { ERROR_CATALOGUE, SlipwayError, type ErrorCode } from '../lib/errors.js';
import { describe, fieldOf } from '../schemas/validator.js';

export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** Normalises anything thrown into a SlipwayError. */
export function toSlipwayError(err: unknown): SlipwayError {
  if (err instanceof SlipwayError) return err;
  if (typeof err !== 'object' || err === null) return new SlipwayError('SLIPWAY_ERR_INTERNAL', 'internal error', { cause: err });
  const fe = err as Partial<FastifyError> & { validation?: Parameters<typeof fieldOf>[0][] };
  if (fe.validation && fe.validation.length > 0) {
    const first = fe.validation[0]!;
    const context = (fe as { validationContext?: string }).validationContext;
    const field = fieldOf(first) || context || 'body';
    return new SlipwayError('SLIPWAY_ERR_INVALID_INPUT', describe(first, fe.validation).replace(/^body /, `${field} `), { field });
  }
  const byFastifyCode: Record<string, ErrorCode> = {
    FST_ERR_CTP_BODY_TOO_LARGE: 'SLIPWAY_ERR_PAYLOAD_TOO_LARGE',
    FST_ERR_CTP_INVALID_JSON_BODY: 'SLIPWAY_ERR_INVALID_INPUT',
    FST_ERR_CTP_EMPTY_JSON_BODY: 'SLIPWAY_ERR_INVALID_INPUT',
    FST_ERR_CTP_INVALID_MEDIA_TYPE: 'SLIPWAY_ERR_INVALID_INPUT',
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'SLIPWAY_ERR_INVALID_INPUT',
  };
  const mapped = fe.code ? byFastifyCode[fe.code] : undefined;
  if (mapped) return new SlipwayError(mapped, fe.message ?? ERROR_CATALOGUE[mapped].title, mapped === 'SLIPWAY_ERR_INVALID_INPUT' ? { field: 'body' } : {});
  if (fe.statusCode === 429) return new SlipwayError('SLIPWAY_ERR_RATE_LIMITED', fe.message ?? 'too many requests');
  if (fe.statusCode === 400 && fe.message) return new SlipwayError('SLIPWAY_ERR_INVALID_INPUT', fe.message);
  return new SlipwayError('SLIPWAY_ERR_INTERNAL', 'internal error', { cause: err });
}

/**
 * A JSON-RPC InvalidParams error (an unknown tool) whose message is ours alone: McpError prefixes its
 * message with "MCP error -32602:", and the client prefixes it again on receipt.
 */
export function invalidParams(message: string, data: Record<string, unknown>): Error {
  return Object.assign(new Error(message), { code: JsonRpcErrorCode.InvalidParams, data });
}

/** REST: status code, JSON body, and the headers some errors call for (Retry-After). */
export function toErrorReply(err: unknown): { statusCode: number; body: ErrorBody; headers: Record<string, string> } {
  const e = toSlipwayError(err);
  const message = e.code === 'SLIPWAY_ERR_INTERNAL' ? 'internal error' : e.message;
  const body: ErrorBody = { error: { code: e.code, message } };
  if (e.field !== undefined) body.error.field = e.field;
  const headers: Record<string, string> = {};
  if (e.retryAfterSeconds !== undefined) headers['retry-after'] = String(e.retryAfterSeconds);
  if (e.code === 'SLIPWAY_ERR_UNAUTHORIZED') {
    headers['www-authenticate'] = e.field === 'authorization' ? 'Bearer realm="slipway", error="invalid_token"' : 'Bearer realm="slipway"';
  }
  return { statusCode: e.statusCode, body, headers };
}

/** Where an MCP error result carries the catalogue error, machine-readable. */
export const MCP_ERROR_META_KEY = 'io.slipway/error';

/**
 * MCP: every failure of a known tool, invalid arguments included, is a tool result with
 * isError carrying the catalogue code and the field, so the model can read what went
 * wrong and try again (the 2025-11-25 revision asks this of input errors: many clients
 * never show a protocol error to the model). The code goes in the text and in
 * `_meta`, not in structuredContent: clients check structuredContent against the
 * tool's outputSchema even on isError results (SDK 1.x Client.callTool does), and an
 * error body is not a RunResult.
 */
export function toMcpToolError(err: unknown): { isError: true; content: { type: 'text'; text: string }[]; _meta: { [MCP_ERROR_META_KEY]: ErrorBody['error'] } } {
  const { body } = toErrorReply(err);
  return { isError: true, content: [{ type: 'text', text: `${body.error.code}: ${body.error.message}` }], _meta: { [MCP_ERROR_META_KEY]: body.error } };
}
