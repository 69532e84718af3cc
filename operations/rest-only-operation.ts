/**
 * The one exemption from "every operation is on both doors": an operation whose request
 * or answer is raw bytes (a tar archive). MCP tool calls carry JSON only, so such an
 * operation has no tool; it is declared here, in the same terms as an Operation (name,
 * scope, input schema for path and query, errors, a description), and its REST route,
 * scope check, audit line and OpenAPI entry are derived from the declaration by
 * routes/rest-only-operations.ts. `restOnly` says why it has no MCP twin and which tool
 * does the same job in JSON; test/server/operations.test.ts requires it and checks the rest.
 */
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import type { Readable } from 'node:stream';
import type { Config } from '../server/config.js';
import type { OperationContext, ServerFacts } from './operation.js';
import type { Scope } from '../server/tokens.js';
import type { ErrorStatus } from '../schemas/error-reply.js';

/** A request body of bytes: its media type, and the server's bounds on its size and on how many one caller sends at once. */
export interface BinaryBody {
  contentType: string;
  description: string;
  maxBytes(config: Config): number;
  /** Bodies of this operation one caller may have in flight: each is held in the gateway's memory until checked. */
  perCaller(config: Config): number;
}

/** An answer of bytes, streamed: its media type, and the file name a client may save it as. */
export interface BinaryAnswer {
  contentType: string;
  description: string;
}

export interface RestOnlyOperation<I extends TObject = TObject> {
  name: string;
  title: string;
  tag: 'sandboxes';
  description(facts: ServerFacts): string;
  /** Why there is no MCP tool, and which tool does the same job in JSON. */
  restOnly: string;
  scope: Scope;
  rest: { method: 'GET' | 'PUT'; path: string; params: string[] };
  /** Path and query fields (the body, if any, is `body`). */
  input: I;
  body?: BinaryBody | undefined;
  /** A JSON answer (`output`) or a streamed one (`stream`). */
  output: { json: TSchema; answer: string } | { stream: BinaryAnswer };
  errors: ErrorStatus[];
  call(input: Static<I>, ctx: Omit<OperationContext, 'onEvent'> & { body?: Buffer | undefined }): Promise<unknown>;
}

/** What a streamed answer's call resolves to: the bytes, and a file name for Content-Disposition. */
export interface StreamedAnswer {
  stream: Readable;
  fileName: string;
}

/** Keeps each declaration's input type checked, then erases it for the table. */
export function restOnlyOperation<I extends TObject>(op: RestOnlyOperation<I>): RestOnlyOperation {
  return op as unknown as RestOnlyOperation;
}
