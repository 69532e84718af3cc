/**
 * One low-level MCP `Server` per session. SDK 1.x `McpServer.registerTool` takes Zod
 * schemas only, so tools/list and tools/call are registered here with
 * `setRequestHandler`, publishing the TypeBox schemas as they are and validating
 * arguments with the same Ajv as the REST door (schemas/validator.ts).
 */
import type { FastifyBaseLogger } from 'fastify';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  SetLevelRequestSchema,
  type CallToolResult,
  type LoggingLevel,
} from '@modelcontextprotocol/sdk/types.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Caller } from '../../lib/caller.js';
import type { Slipway } from '../../lib/slipway.js';
import { imageOf, type Audit } from '../audit.js';
import { requireScope } from '../auth.js';
import type { Scope } from '../tokens.js';
import { assertValid } from '../../schemas/validator.js';
import { assertArgumentDepth } from './argument-guard.js';
import { invalidParams, toMcpToolError, toSlipwayError } from '../error-reply.js';
import { RunNotifier } from './notifications.js';
import { closeStreamOfLongCall, type SsePollingSettings } from './sse-polling.js';
import { toolListing, type SlipwayTool } from './tools.js';

/** What the server needs of the session it belongs to. */
export interface SessionState {
  /** The level of the last `logging/setLevel`, if any. */
  logLevel: LoggingLevel | undefined;
  /** Marks a tool call under way (a session is not idle while one runs); returns its end. */
  beginCall(): () => void;
}

export interface McpServerDeps {
  slipway: Slipway;
  tools: SlipwayTool[];
  log: FastifyBaseLogger;
  audit: Audit;
  /** When a long call's POST stream is closed for the client to resume (none: never). */
  ssePolling?: SsePollingSettings;
}

const INSTRUCTIONS =
  'Slipway runs containers and code on a Docker engine, hardened by default (no network, read-only root, limits). ' +
  'execute_with_payload runs source code in a language preset; execute_docker_container runs a command in any image. ' +
  'Both block until the run ends and return status, exit code and output; a failing program is a normal result, not a tool error.';

/** Who made this request: routes/mcp.ts hangs the authenticated caller on the transport's authInfo. */
function callerOf(authInfo: AuthInfo | undefined, slipway: Slipway): McpCaller {
  const extra = authInfo?.extra as McpCaller | undefined;
  return extra ?? { caller: slipway.openCaller, scopes: ALL_SCOPES };
}

const ALL_SCOPES: ReadonlySet<Scope> = new Set(['run', 'build', 'pull', 'read', 'admin']);
const hasScope = (scopes: ReadonlySet<Scope>, scope: Scope): boolean => scopes.has(scope) || scopes.has('admin');

/** The caller as it travels from the HTTP request to the tool handler. */
export interface McpCaller {
  caller: Caller;
  scopes: ReadonlySet<Scope>;
}

export function createMcpServer(deps: McpServerDeps, session: SessionState): Server {
  const server = new Server({ name: 'slipway', version: '0.1.0' }, { capabilities: { tools: {}, logging: {} }, instructions: INSTRUCTIONS });
  const tools = new Map(deps.tools.map((tool) => [tool.name, tool]));
  const listing = deps.tools.map(toolListing);

  // A caller sees the tools its token's scopes allow.
  server.setRequestHandler(ListToolsRequestSchema, async (_request, extra) => {
    const { scopes } = callerOf(extra.authInfo, deps.slipway);
    return { tools: listing.filter((_, i) => hasScope(scopes, deps.tools[i]!.scope)) };
  });

  // Replaces the SDK's own setLevel handler: run output is sent related to its call
  // (so it travels on the call's SSE stream), which the SDK's sendLoggingMessage cannot do,
  // so the level is kept where RunNotifier can read it.
  server.setRequestHandler(SetLevelRequestSchema, async (request) => {
    session.logLevel = request.params.level;
    return {};
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const tool = tools.get(request.params.name);
    if (!tool) throw invalidParams(`unknown tool ${JSON.stringify(request.params.name)}`, { field: 'name' });
    const { caller, scopes } = callerOf(extra.authInfo, deps.slipway);
    const args = request.params.arguments as { run_id?: unknown } | undefined;
    const auditCall = (outcome: string, runId?: string): void =>
      deps.audit({
        who: caller.name ?? 'open',
        op: `mcp tools/call ${tool.name}`,
        image: imageOf(args),
        run_id: runId ?? (typeof args?.run_id === 'string' ? args.run_id : undefined),
        outcome,
      });
    const endCall = session.beginCall();
    const keepStream = closeStreamOfLongCall(extra.closeSSEStream, deps.ssePolling);
    const notifier = new RunNotifier((n) => extra.sendNotification(n), request.params._meta?.progressToken, () => session.logLevel);
    try {
      assertArgumentDepth(request.params.arguments);
      // Same Ajv, same field naming as REST; a copy, since validation fills in defaults.
      const input = assertValid(tool.input, structuredClone(request.params.arguments ?? {}));
      requireScope(scopes, tool.scope);
      const outcome = await tool.call(input, { slipway: deps.slipway, caller, signal: extra.signal, notifier });
      await notifier.flush();
      const structured = outcome.structured as { run_id?: unknown; status?: unknown };
      auditCall(typeof structured.status === 'string' ? structured.status : 'ok', typeof structured.run_id === 'string' ? structured.run_id : undefined);
      return { content: [{ type: 'text', text: outcome.text }], structuredContent: outcome.structured };
    } catch (err) {
      await notifier.flush();
      auditCall(toSlipwayError(err).code);
      if (toSlipwayError(err).code === 'SLIPWAY_ERR_INTERNAL') deps.log.error({ err, tool: tool.name }, 'MCP tool call failed');
      // InvalidParams (thrown) for bad arguments; an isError result with the catalogue code otherwise.
      return toMcpToolError(err);
    } finally {
      keepStream();
      endCall();
    }
  });

  return server;
}
