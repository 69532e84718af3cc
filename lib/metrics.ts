/**
 * What the library reports for monitoring, in its own terms. lib/ never imports a
 * metrics library: it calls this interface, and the server hands it an implementation
 * (server/metrics.ts, Prometheus through prom-client). Tests and tools that do not
 * scrape anything use NO_METRICS.
 */

/**
 * Live quantities read when a scrape asks (not pushed on every change): whoever owns the
 * number registers a reader with `observe`. Sandboxes and the warm pool register theirs
 * once they exist; until then these read 0.
 */
export type GaugeName =
  | 'runs_queued'
  | 'runs_executing'
  | 'sandboxes_live'
  | 'pool_idle'
  | 'pool_claimed'
  | 'pool_replenishing'
  | 'sse_streams_open'
  | 'mcp_sessions_open';

export interface Metrics {
  /** A run was accepted (a record exists), by kind (`image`, `payload`, `repo`, ...). */
  runStarted(kind: string): void;
  /** A run ended, with its final status and how long its process ran (seconds). */
  runEnded(kind: string, status: string, durationSeconds: number): void;
  /** How long a run waited for a slot before it began (seconds). */
  runQueueWait(kind: string, seconds: number): void;
  /** One engine call (`container create`, `pull`, ...): its latency, and whether it failed. */
  engineCall(operation: string, seconds: number, failed: boolean): void;
  /** A sandbox was asked for and the warm pool had none ready. */
  poolMiss(): void;
  /** Registers the reader of a live quantity; a later reader for the same name replaces it. */
  observe(gauge: GaugeName, read: () => number): void;
}

export const NO_METRICS: Metrics = {
  runStarted: () => {},
  runEnded: () => {},
  runQueueWait: () => {},
  engineCall: () => {},
  poolMiss: () => {},
  observe: () => {},
};

/** Seconds since `start` (from `performance.now()`), for latencies. */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
