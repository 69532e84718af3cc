/** Runs: look-up, listing, cancellation, and their logs (JSON pages, SSE, plain text). */
import type { Socket } from 'node:net';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { invalidInput } from '../lib/errors.js';
import { ownerFilter } from '../lib/caller.js';
import { toPublicRecord } from '../lib/runs.js';
import { StreamCounter } from '../server/stream-counter.js';
import { errorReplies } from '../schemas/error-reply.js';
import { ListRunsInput, ListRunsResult, RunId, RunRecord } from '../schemas/runs.js';
import { writeEventStream } from '../server/event-stream.js';

const RunParams = Type.Object({ run_id: RunId });

const runRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const streams = new StreamCounter(app.config.auth.maxStreamsPerToken);
  // Log streams' sockets until they close: a reader that stopped reading keeps its
  // socket busy, and the server would wait on it forever when closing. Readers resume
  // with Last-Event-ID against the next process.
  const openSockets = new Set<Socket>();
  app.addHook('preClose', async () => {
    for (const socket of openSockets) socket.destroy();
  });
  app.get(
    '/runs',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['runs'],
        summary: 'List runs, newest first',
        description: 'Filter by `status`, `kind` and creation time; page with `limit` and `next_cursor`.',
        querystring: ListRunsInput,
        response: { 200: ListRunsResult, ...errorReplies },
      },
    },
    async (request) => app.slipway.listRuns(request.query, request.caller),
  );

  app.get(
    '/runs/:run_id',
    {
      config: { scope: 'read' },
      schema: { tags: ['runs'], summary: 'One run: status, timestamps, result (get_run)', params: RunParams, response: { 200: RunRecord, ...errorReplies } },
    },
    async (request) => toPublicRecord(app.slipway.runs.get(request.params.run_id, ownerFilter(request.caller))),
  );

  app.delete(
    '/runs/:run_id',
    {
      config: { scope: 'run' },
      schema: {
        tags: ['runs'],
        summary: 'Cancel a run (cancel_run)',
        description: 'A queued run never starts; a running one has its container stopped and removed. It ends `cancelled`. 409 if it had already ended.',
        params: RunParams,
        response: { 200: RunRecord, ...errorReplies },
      },
    },
    async (request) => toPublicRecord(await app.slipway.runs.cancel(request.params.run_id, ownerFilter(request.caller))),
  );

  app.get(
    '/runs/:run_id/logs',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['runs'],
        summary: 'Follow a run\'s log (SSE)',
        description:
          'Server-Sent Events: `stdout`, `stderr`, `status`, `pull`, `build`, then `end` with the final status; each with an `id` increasing within the run. ' +
          'A finished run replays from the start. `Last-Event-ID` (or `last_event_id`) resumes exactly after that event. `?format=text` streams the plain output instead.',
        params: RunParams,
        querystring: Type.Object(
          {
            format: Type.Optional(Type.Union([Type.Literal('sse'), Type.Literal('text')])),
            last_event_id: Type.Optional(Type.Integer({ minimum: 0 })),
          },
          { additionalProperties: false },
        ),
        headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })) }),
        response: { ...errorReplies },
      },
    },
    async (request, reply) => {
      const { run_id: runId } = request.params;
      // Everything that can refuse the request comes first: only a stream that opens takes a slot.
      app.slipway.runs.get(runId, ownerFilter(request.caller)); // 404 before the stream starts
      const header = request.headers['last-event-id'];
      const afterId = header !== undefined ? Number(header) : (request.query.last_event_id ?? 0);
      if (!Number.isSafeInteger(afterId)) throw invalidInput('last-event-id', 'Last-Event-ID must be an event id');
      const release = streams.acquire(request.caller.name ?? request.ip);
      try {
        const socket = reply.raw.socket;
        if (socket) {
          openSockets.add(socket);
          socket.once('close', () => openSockets.delete(socket));
        }
        const closed = new AbortController();
        request.raw.on('close', () => closed.abort());
        reply.raw.on('close', () => {
          closed.abort();
          release(); // a client gone is a slot given back, whatever the writer is waiting on
        });
        reply.hijack();
        const { sseHeartbeatSeconds, sseStallSeconds } = app.config.runs;
        const outcome = await writeEventStream(reply.raw, app.slipway.logs.read(runId, afterId, closed.signal), {
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
