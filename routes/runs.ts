/**
 * Following a run's log live: Server-Sent Events (or plain text) from
 * GET /v1/runs/{id}/logs. A streaming transport, so it is written by hand and is REST
 * only; its page-by-page twin on both doors is get_run_logs (GET /v1/runs/{id}/events).
 * Every other run operation is declared in operations/.
 */
import type { Socket } from 'node:net';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { invalidInput } from '../lib/errors.js';
import { StreamCounter } from '../server/stream-counter.js';
import { described, errorReplies } from '../schemas/error-reply.js';
import { StringEnum } from '../schemas/compact.js';
import { RunId } from '../schemas/runs.js';
import { writeEventStream } from '../server/event-stream.js';

const SSE_EVENTS =
  'Server-Sent Events, one per log event, each with an `id` increasing within the run and `data` as JSON `{id, time, type, data}`: ' +
  '`stdout` and `stderr` (text the process printed), `status` (`{status, container_id?}` when the run moves on: queued, pulling, ' +
  'building, running), `pull` (image download progress), `build` (a line of a repository build), `truncated` (the kept log reached ' +
  'its cap), and last `end` (`{status}`: the final status), after which the stream closes. Comment lines are heartbeats.';

const runRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const streams = new StreamCounter(app.config.auth.maxStreamsPerToken);
  app.slipway.metrics.observe('sse_streams_open', () => streams.total);
  // Log streams' sockets until they close: a reader that stopped reading keeps its
  // socket busy, and the server would wait on it forever when closing. Readers resume
  // with Last-Event-ID against the next process.
  const openSockets = new Set<Socket>();
  app.addHook('preClose', async () => {
    for (const socket of openSockets) socket.destroy();
  });

  app.get(
    '/runs/:run_id/logs',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['runs'],
        operationId: 'follow_run_log',
        summary: 'Follow a run\'s log (SSE)',
        description:
          `${SSE_EVENTS} A finished run replays from the start. \`Last-Event-ID\` (or \`last_event_id\`) resumes exactly after that event. ` +
          '`?format=text` streams the plain output instead. To read a page at a time, use GET /v1/runs/{run_id}/events.',
        params: Type.Object({ run_id: RunId }),
        querystring: Type.Object(
          {
            format: Type.Optional(StringEnum(['sse', 'text'], { description: '`sse` (default): events; `text`: only the output, as plain text.' })),
            last_event_id: Type.Optional(Type.Integer({ minimum: 0, description: 'Resume after this event id (the Last-Event-ID header wins).' })),
          },
          { additionalProperties: false },
        ),
        headers: Type.Object({
          'last-event-id': Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'Resume after this event id, as an EventSource sends it on reconnecting.' })),
        }),
        response: {
          200: described(Type.String(), `The stream: ${SSE_EVENTS}`),
          ...errorReplies([400, 401, 403, 404, 429, 503]),
        },
      },
    },
    async (request, reply) => {
      const { run_id: runId } = request.params;
      const header = request.headers['last-event-id'];
      const afterId = header !== undefined ? Number(header) : (request.query.last_event_id ?? 0);
      if (!Number.isSafeInteger(afterId)) throw invalidInput('last-event-id', 'Last-Event-ID must be an event id');
      const closed = new AbortController();
      // Everything that can refuse the request comes first (an unknown or foreign run is a
      // 404 here): only a stream that opens takes a slot.
      const events = app.slipway.followRunLog(runId, afterId, request.caller, closed.signal);
      const release = streams.acquire(request.caller.name ?? request.ip);
      try {
        const socket = reply.raw.socket;
        if (socket) {
          openSockets.add(socket);
          socket.once('close', () => openSockets.delete(socket));
        }
        request.raw.on('close', () => closed.abort());
        reply.raw.on('close', () => {
          closed.abort();
          release(); // a client gone is a slot given back, whatever the writer is waiting on
        });
        reply.hijack();
        const { sseHeartbeatSeconds, sseStallSeconds } = app.config.runs;
        const outcome = await writeEventStream(reply.raw, events, {
          format: request.query.format ?? 'sse',
          heartbeatMs: sseHeartbeatSeconds * 1000,
          stallMs: sseStallSeconds * 1000,
          signal: closed.signal,
        });
        if (outcome === 'stalled') request.log.info({ runId }, 'cut off a stalled log reader');
      } finally {
        release();
      }
    },
  );
};

export default runRoutes;
