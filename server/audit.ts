/**
 * The audit trail: one structured line per operation, on a logger of its own
 * (`audit: true`), saying who did what to which image and run, and how it ended.
 * Only these fields are written: request bodies (environment values, payload files,
 * stdin) and tokens never are.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

export interface AuditEntry {
  who: string;
  /** `POST /v1/containers/run`, or `mcp tools/call execute_docker_container`. */
  op: string;
  image?: string | undefined;
  run_id?: string | undefined;
  /** The HTTP status, or the run status, or the error code. */
  outcome: string | number;
}

export type Audit = (entry: AuditEntry) => void;

export function createAudit(log: Logger): Audit {
  const audit = log.child({ audit: true });
  return (entry) => audit.info(entry, 'audit');
}

/** What names the image of a request, if anything does: never the rest of the body. */
export function imageOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as { image?: unknown; language?: unknown; repo_url?: unknown };
  for (const value of [b.image, b.repo_url, b.language]) if (typeof value === 'string') return value.slice(0, 300);
  return undefined;
}

const RUN_ID = /"run_id":"([0-9a-f-]{36})"/;
const RUN_STATUS = /"status":"([a-z_]+)"/;

/** One line per REST operation (routes with a scope), after the reply is sent. */
export function registerRestAudit(app: FastifyInstance, audit: Audit): void {
  app.addHook('onSend', async (request, _reply, payload) => {
    // The reply is JSON text here; a run id and status are read off it, not parsed out of megabytes.
    if (typeof payload === 'string' && request.routeOptions.config?.scope && request.routeOptions.config.scope !== 'mcp') {
      const head = payload.length > 4096 ? payload.slice(0, 256) + payload.slice(-4096) : payload;
      (request as { auditRun?: { id?: string; status?: string } }).auditRun = { id: RUN_ID.exec(head)?.[1], status: RUN_STATUS.exec(head)?.[1] };
    }
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const scope = request.routeOptions.config?.scope;
    if (!scope || scope === 'mcp') return; // MCP calls are audited per tool call
    const run = (request as { auditRun?: { id?: string; status?: string } }).auditRun;
    const params = request.params as { run_id?: string } | undefined;
    audit({
      who: request.caller?.name ?? (request.caller ? 'open' : 'anonymous'),
      op: `${request.method} ${request.routeOptions.url}`,
      image: imageOf(request.body),
      run_id: run?.id ?? params?.run_id,
      outcome: run?.status && reply.statusCode < 300 ? `${reply.statusCode} ${run.status}` : reply.statusCode,
    });
  });
}
