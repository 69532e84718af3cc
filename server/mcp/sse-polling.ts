/**
 * SSE polling on /mcp (specification 2025-11-25, SEP-1699). Proxies and load balancers
 * cut HTTP responses that stay open too long, and a tool call that runs a container
 * for minutes keeps its POST stream open all that time. So:
 *
 * - every POST stream starts with a priming event (an id and empty data; the SDK
 *   writes it once an event store is configured) carrying a `retry` field: how long a
 *   client waits before it reconnects;
 * - a tool call still running after `closeAfterMs` has its POST stream closed by the
 *   server. The call goes on; what it sends meanwhile, its result included, is kept in
 *   the session's event store, and the client fetches it with a GET carrying
 *   `Last-Event-ID` (the SDK client does this by itself).
 *
 * The SDK offers `closeSSEStream` only to clients that can resume (protocol 2025-11-25
 * or later, on a session with an event store); older clients keep one open stream.
 */
export interface SsePollingSettings {
  /** The `retry` field of each priming event, in milliseconds. */
  retryMs: number;
  /** A tool call's POST stream is closed after this long (0: never). */
  closeAfterMs: number;
}

/** The transport options that make its POST streams pollable. */
export function pollingTransportOptions(settings: SsePollingSettings): { retryInterval: number } {
  return { retryInterval: settings.retryMs };
}

/**
 * Schedules the close of a tool call's POST stream; returns what the call runs when it
 * ends, so a call that finishes in time keeps its stream to the end.
 */
export function closeStreamOfLongCall(closeSSEStream: (() => void) | undefined, settings: SsePollingSettings | undefined): () => void {
  if (closeSSEStream === undefined || settings === undefined || settings.closeAfterMs <= 0) return () => undefined;
  const timer = setTimeout(closeSSEStream, settings.closeAfterMs);
  timer.unref();
  return () => clearTimeout(timer);
}
