/**
 * Writes a run's events to an HTTP response as Server-Sent Events (or plain text),
 * with the discipline a gateway needs: it never holds more than one event beyond the
 * socket's own buffer; a reader that stops reading for `stallMs` is cut off (it can
 * resume with Last-Event-ID); heartbeats keep idle proxies from closing the stream.
 */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { StoredLogEvent } from '../lib/run-log.js';

export interface EventStreamOptions {
  format: 'sse' | 'text';
  heartbeatMs: number;
  stallMs: number;
  /** Aborted when the client goes away; the run itself goes on. */
  signal: AbortSignal;
}

export function sseFrame(event: StoredLogEvent): string {
  const { bytes: _bytes, ...visible } = event;
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(visible)}\n\n`;
}

function textOf(event: StoredLogEvent): string | undefined {
  if (event.type === 'stdout' || event.type === 'stderr' || event.type === 'build') return String(event.data);
  return undefined;
}

/** Returns how the stream ended: `end` (the run ended), `closed` (client left) or `stalled` (cut off). */
export async function writeEventStream(
  res: ServerResponse,
  events: AsyncIterable<StoredLogEvent>,
  options: EventStreamOptions,
): Promise<'end' | 'closed' | 'stalled'> {
  res.writeHead(200, {
    'content-type': options.format === 'sse' ? 'text/event-stream; charset=utf-8' : 'text/plain; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
    // Without nosniff a browser buffers the start of a text/plain response (Chromium:
    // 1 KB) to guess its type, so a slow log would show nothing until then; with it
    // and the charset above, each line renders as it arrives.
    'x-content-type-options': 'nosniff',
    connection: 'keep-alive',
  });
  res.flushHeaders();
  let waitingForDrain = false;
  const heartbeat =
    options.format === 'sse'
      ? setInterval(() => {
          if (!waitingForDrain) res.write(': heartbeat\n\n');
        }, options.heartbeatMs)
      : undefined;
  try {
    for await (const event of events) {
      if (options.signal.aborted) return 'closed';
      const chunk = options.format === 'sse' ? sseFrame(event) : textOf(event);
      if (chunk === undefined || chunk === '') continue;
      if (!res.write(chunk)) {
        waitingForDrain = true;
        const drained = await Promise.race([
          once(res, 'drain').then(() => true),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), options.stallMs).unref()),
          once(options.signal as unknown as NodeJS.EventEmitter, 'abort').then(() => false),
        ]).catch(() => false);
        waitingForDrain = false;
        if (options.signal.aborted) return 'closed';
        if (!drained) {
          res.destroy(); // the reader resumes with Last-Event-ID; the run is unaffected
          return 'stalled';
        }
      }
    }
    return options.signal.aborted ? 'closed' : 'end';
  } finally {
    clearInterval(heartbeat);
    if (!res.destroyed) res.end();
  }
}
