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
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  SetLevelRequestSchema,
  type CallToolResult,
  type LoggingLevel,
} from '@modelcontextprotocol/sdk/types.js';
import type { Slipway } from '../../lib/slipway.js';
import { assertValid } from '../../schemas/validator.js';
import { toMcpToolError, toSlipwayError } from '../error-reply.js';
import { RunNotifier } from './notifications.js';
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
}

const INSTRUCTIONS =
  'Slipway runs containers and code on a Docker engine, hardened by default (no network, read-only root, limits). ' +
  'execute_with_payload runs source code in a language preset; execute_docker_container runs a command in any image. ' +
  'Both block until the run ends and return status, exit code and output; a failing program is a normal result, not a tool error.';

export function createMcpServer(deps: McpServerDeps, session: SessionState): Server {
  const server = new Server({ name: 'slipway', version: '0.1.0' }, { capabilities: { tools: {}, logging: {} }, instructions: INSTRUCTIONS });
  const tools = new Map(deps.tools.map((tool) => [tool.name, tool]));
  const listing = deps.tools.map(toolListing);

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: listing }));

  // Replaces the SDK's own setLevel handler: run output is sent related to its call
  // (so it travels on the call's SSE stream), which the SDK's sendLoggingMessage cannot do,
  // so the level is kept where RunNotifier can read it.
  server.setRequestHandler(SetLevelRequestSchema, async (request) => {
    session.logLevel = request.params.level;
    return {};
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const tool = tools.get(request.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `unknown tool ${JSON.stringify(request.params.name)}`, { field: 'name' });
    const endCall = session.beginCall();
    const notifier = new RunNotifier((n) => extra.sendNotification(n), request.params._meta?.progressToken, () => session.logLevel);
    try {
      // Same Ajv, same field naming as REST; a copy, since validation fills in defaults.
      const input = assertValid(tool.input, structuredClone(request.params.arguments ?? {}));
      const outcome = await tool.call(input, { slipway: deps.slipway, signal: extra.signal, notifier });
      await notifier.flush();
      return { content: [{ type: 'text', text: outcome.text }], structuredContent: outcome.structured };
    } catch (err) {
      await notifier.flush();
      if (toSlipwayError(err).code === 'SLIPWAY_ERR_INTERNAL') deps.log.error({ err, tool: tool.name }, 'MCP tool call failed');
      // InvalidParams (thrown) for bad arguments; an isError result with the catalogue code otherwise.
      return toMcpToolError(err);
    } finally {
      endCall();
    }
  });

  return server;
}
