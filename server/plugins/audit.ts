/**
 * The audit trail: one structured line per operation call, on a logger of its own
 * (`audit: true`), saying who did what to which image and run, and how it ended. Both
 * doors write it through `auditCall`. Only these fields are written: request bodies
 * (environment values, payload files, stdin) and tokens never are.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Caller } from '../../lib/caller.js';

export interface AuditEntry {
  who: string;
  /** `POST /v1/containers/run`, or `mcp tools/call execute_docker_container`. */
  op: string;
  image?: string | undefined;
  run_id?: string | undefined;
  /** The HTTP status (with the run status), or the run status, or the error code. */
  outcome: string | number;
  /** Fastify's id of the HTTP request (`reqId` on the request's own log lines). */
  request_id?: string | undefined;
  /** On MCP, the JSON-RPC id of the tools/call. */
  rpc_id?: string | number | undefined;
}

export type Audit = (entry: AuditEntry) => void;

export function createAudit(log: Logger): Audit {
  const audit = log.child({ audit: true });
  return (entry) => audit.info(entry, 'audit');
}

/** What names the image of a request, if anything does: never the rest of the body. */
export function imageOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const b = input as { image?: unknown; language?: unknown; repo_url?: unknown };
  for (const value of [b.image, b.repo_url, b.language]) if (typeof value === 'string') return value.slice(0, 300);
  return undefined;
}

const stringField = (value: unknown, key: string): string | undefined => {
  const field = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return typeof field === 'string' ? field : undefined;
};

export interface AuditedCall {
  op: string;
  /** Undefined when the call was refused before anyone was known to be calling. */
  caller: Caller | undefined | null;
  input: unknown;
  /** The answer, when there was one: its run id and status are recorded. */
  result?: unknown;
  outcome: string | number;
  requestId?: string | undefined;
  rpcId?: string | number | undefined;
}

/** The one audit line of a call, from either door. */
export function auditCall(audit: Audit, call: AuditedCall): void {
  audit({
    who: call.caller ? (call.caller.name ?? 'open') : 'anonymous',
    op: call.op,
    image: imageOf(call.input),
    run_id: stringField(call.result, 'run_id') ?? stringField(call.input, 'run_id'),
    outcome: call.outcome,
    request_id: call.requestId,
    rpc_id: call.rpcId,
  });
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false` on monitoring reads (GET /metrics): authenticated like any route, not audited. */
    audit?: boolean;
  }
  interface FastifyRequest {
    /** The answer of the operation this request called (routes/operations.ts), for its audit line. */
    operationResult?: unknown;
  }
}

/** The REST door's audit point: one line per request to a route with a scope, refused ones included. */
export function registerRestAudit(app: FastifyInstance, audit: Audit): void {
  app.addHook('onResponse', async (request, reply) => {
    const scope = request.routeOptions.config?.scope;
    if (!scope || scope === 'mcp') return; // MCP calls are audited per tool call
    if (request.routeOptions.config?.audit === false) return; // a scrape every few seconds is not a call worth a line
    const status = stringField(request.operationResult, 'status');
    auditCall(audit, {
      op: `${request.method} ${request.routeOptions.url}`,
      caller: request.caller,
      input: { ...(request.params as object | undefined), ...(request.body as object | undefined) },
      result: request.operationResult,
      outcome: status && reply.statusCode < 300 ? `${reply.statusCode} ${status}` : reply.statusCode,
      requestId: request.id,
    });
  });
}
