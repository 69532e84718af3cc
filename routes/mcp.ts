/**
 * The MCP door: streamable HTTP at /mcp (POST for messages, GET for the session's SSE
 * stream and for resuming with Last-Event-ID, DELETE to end a session). Fastify parses
 * the body and checks Origin and Host; the SDK transport of the session does the rest
 * on the raw request and response, which is why the reply is hijacked.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { IncomingMessage } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { createMcpServer, type McpCaller } from '../server/mcp/mcp-server.js';
import { RequestGuard } from '../server/mcp/request-guard.js';
import { McpSessions } from '../server/mcp/sessions.js';
import { slipwayTools } from '../server/mcp/tools.js';
import { serverInstructions } from '../operations/instructions.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Open MCP sessions (the count is what memory checks look at). */
    mcpSessions: McpSessions;
  }
}

/** A JSON-RPC error reply, the shape MCP clients expect from the transport itself. */
function refuse(reply: FastifyReply, status: number, code: number, message: string): FastifyReply {
  return reply.status(status).type('application/json').send({ jsonrpc: '2.0', error: { code, message }, id: null });
}

const mcpRoutes: FastifyPluginAsync = async (app) => {
  const { mcp } = app.config;
  const guard = new RequestGuard(mcp.allowedOrigins, mcp.allowedHosts);
  const tools = slipwayTools(app.config);
  const instructions = serverInstructions(app.config);
  const log = app.log.child({ component: 'mcp' });
  const sessions = new McpSessions(
    {
      idleMs: mcp.sessionIdleSeconds * 1000,
      maxLifetimeMs: mcp.sessionMaxSeconds * 1000,
      maxSessions: mcp.maxSessions,
      maxSessionsPerCaller: mcp.maxSessionsPerCaller,
      eventStoreMaxEvents: mcp.eventStoreMaxEvents,
      eventStoreMaxBytes: mcp.eventStoreMaxBytes,
      ssePolling: mcp.ssePolling,
    },
    (session) => createMcpServer({ slipway: app.slipway, tools, log, audit: app.audit, ssePolling: mcp.ssePolling, instructions }, session),
    log,
  );
  app.decorate('mcpSessions', sessions);
  // Before the HTTP server closes: SSE streams would otherwise hold it open, and the
  // calls under way are aborted, which stops their containers.
  app.addHook('preClose', async () => sessions.closeAll());

  // DNS rebinding: a forged Host or Origin gets nothing, not even a session lookup.
  const checkOriginAndHost = async (request: FastifyRequest, reply: FastifyReply) => {
    const verdict = guard.check(request.headers.host, request.headers.origin);
    if (!verdict.ok) {
      request.log.warn({ host: request.headers.host, origin: request.headers.origin }, 'MCP request refused');
      return refuse(reply, 403, -32000, `Forbidden: ${verdict.reason}`);
    }
  };

  app.route({
    method: ['GET', 'POST', 'DELETE'],
    url: '/mcp',
    schema: { hide: true },
    config: { scope: 'mcp' },
    onRequest: checkOriginAndHost,
    handler: async (request, reply) => {
      // A JSON-RPC batch would carry any number of tool calls through one request, past
      // the per-request rate limit. MCP 2025-06-18 removed batching; the SDK still reads it.
      if (Array.isArray(request.body)) {
        return refuse(reply, 400, -32600, 'Invalid Request: JSON-RPC batches are not accepted; send one message per request');
      }
      const header = request.headers['mcp-session-id'];
      const sessionId = Array.isArray(header) ? header[0] : header;
      let session;
      if (sessionId !== undefined) {
        session = sessions.get(sessionId);
        if (!session) return refuse(reply, 404, -32001, 'Session not found');
      } else if (request.method === 'POST' && isInitializeRequest(request.body)) {
        // A token that may do nothing has no use for a place in the shared session table.
        if (request.scopes.size === 0) return refuse(reply, 403, -32000, 'Forbidden: this token has no scopes, so it cannot open an MCP session');
        // An open server has one caller: the server-wide cap is its bound.
        const callerKey = request.caller.name;
        const room = sessions.hasRoom(callerKey);
        if (room === 'server_full') return refuse(reply.header('retry-after', '30'), 503, -32000, 'Too many MCP sessions; try again later');
        if (room === 'caller_full') {
          const message = `Too many MCP sessions for this caller (at most ${mcp.maxSessionsPerCaller}); end one with DELETE or try again later`;
          return refuse(reply.header('retry-after', '30'), 429, -32000, message);
        }
        session = await sessions.open(callerKey);
      } else {
        return refuse(reply, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
      }

      // A session belongs to the token that opened it; for anyone else it does not exist.
      if (session.owner === undefined) session.owner = request.caller.name;
      else if (session.owner !== request.caller.name) return refuse(reply, 404, -32001, 'Session not found');

      session.track(reply.raw, request.method === 'GET');
      // The SDK hands `auth` to every handler as extra.authInfo: that is how tools learn the caller.
      const mcpCaller: McpCaller = { caller: request.caller, scopes: request.scopes, requestId: request.id };
      (request.raw as IncomingMessage & { auth?: AuthInfo }).auth = { token: '', clientId: request.caller.name ?? 'open', scopes: [...request.scopes], extra: { ...mcpCaller } };
      reply.hijack();
      try {
        await session.transport.handleRequest(request.raw, reply.raw, request.body);
      } catch (err) {
        request.log.error({ err }, 'MCP transport failed');
        if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'content-type': 'application/json' });
        reply.raw.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'internal error' }, id: null }));
      }
      // An initialize the transport refused (bad version, malformed) leaves a session without an id.
      if (session.id === undefined) await session.close();
    },
  });
};

// Registered without encapsulation (what fastify-plugin does), so `mcpSessions` is
// visible on the app; the route's hooks are route-level and touch nothing else.
(mcpRoutes as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;

export default mcpRoutes;
