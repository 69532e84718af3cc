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
import type { Slipway } from '../../lib/slipway.js';
import { auditCall, type Audit } from '../plugins/audit.js';
import { authorize, hasScope, type Who } from '../../operations/invoke.js';
import { assertValid } from '../../schemas/validator.js';
import { assertArgumentDepth } from './argument-guard.js';
import { invalidParams, toMcpToolError, toSlipwayError } from '../error-reply.js';
import { RunNotifier } from './notifications.js';
import { closeStreamOfLongCall, type SsePollingSettings } from './sse-polling.js';
import type { SlipwayTool } from './tools.js';

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
  /** initialize's `instructions`: what every tool shares, said once (operations/instructions.ts). */
  instructions: string;
}

/** The caller as it travels from the HTTP request to the tool handler, with that request's id (for the audit line). */
export type McpCaller = Who & { requestId?: string | undefined };

/**
 * Who made this request: routes/mcp.ts hangs the authenticated caller on the
 * transport's authInfo. Without it nobody is known to be calling, and every call fails closed.
 */
function callerOf(authInfo: AuthInfo | undefined): McpCaller | undefined {
  return authInfo?.extra as McpCaller | undefined;
}

export function createMcpServer(deps: McpServerDeps, session: SessionState): Server {
  const server = new Server({ name: 'slipway', version: '0.1.0' }, { capabilities: { tools: {}, logging: {} }, instructions: deps.instructions });
  const tools = new Map(deps.tools.map((tool) => [tool.listing.name, tool]));

  // A caller sees the tools its token's scopes allow.
  server.setRequestHandler(ListToolsRequestSchema, async (_request, extra) => {
    const scopes = callerOf(extra.authInfo)?.scopes;
    return { tools: deps.tools.filter((tool) => scopes && hasScope(scopes, tool.operation.scope)).map((tool) => tool.listing) };
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
    const op = tool.operation;
    const who = callerOf(extra.authInfo);
    const args = request.params.arguments;
    const audit = (outcome: string, result?: unknown): void =>
      auditCall(deps.audit, { op: `mcp tools/call ${op.tool}`, caller: who?.caller, input: args, result, outcome, requestId: who?.requestId, rpcId: extra.requestId });
    const endCall = session.beginCall();
    const keepStream = closeStreamOfLongCall(extra.closeSSEStream, deps.ssePolling);
    const notifier = new RunNotifier((n) => extra.sendNotification(n), request.params._meta?.progressToken, () => session.logLevel);
    try {
      const { caller } = authorize(op, who);
      assertArgumentDepth(args);
      // Same Ajv, same field naming as REST; a copy, since validation fills in defaults.
      const input = assertValid<Record<string, unknown>>(op.input, structuredClone(args ?? {}));
      const result = (await op.call(input, { slipway: deps.slipway, caller, signal: extra.signal, onEvent: notifier.onEvent })) as Record<string, unknown>;
      await notifier.flush();
      audit(typeof result.status === 'string' ? result.status : 'ok', result);
      return { content: [{ type: 'text', text: op.text(result) }], structuredContent: result };
    } catch (err) {
      await notifier.flush();
      const error = toSlipwayError(err);
      audit(error.code);
      if (error.code === 'SLIPWAY_ERR_INTERNAL') deps.log.error({ err, tool: op.tool }, 'MCP tool call failed');
      // An isError result with the catalogue code and the field, so the model can correct itself.
      return toMcpToolError(error);
    } finally {
      keepStream();
      endCall();
    }
  });

  return server;
}
