/**
 * The library's metrics (lib/metrics.ts) in Prometheus terms, through prom-client, and
 * GET /metrics serving them in the text exposition format. Each gateway has a registry
 * of its own (not prom-client's global one), so several in one process (tests) do not
 * collide. Gauges are read at scrape time from the readers the library registered.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { GaugeName, Metrics } from '../lib/metrics.js';

/** Run durations: from a fraction of a second (echo) to the hour a run may take. */
const RUN_SECONDS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
/** Engine calls and queue waits: mostly milliseconds, pulls and long waits in seconds. */
const SHORT_SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60];

const GAUGE_HELP: Record<GaugeName, string> = {
  runs_queued: 'Runs waiting for a slot',
  runs_executing: 'Runs holding a slot (pulling, building or running)',
  sandboxes_live: 'Sandboxes alive',
  pool_idle: 'Warm pool containers ready to be claimed',
  pool_claimed: 'Warm pool containers handed to a caller and not yet discarded',
  pool_replenishing: 'Warm pool containers being created',
  sse_streams_open: 'Run log streams (SSE) open',
  mcp_sessions_open: 'MCP sessions open',
};

export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly readers = new Map<GaugeName, () => number>();
  private readonly started = new Counter({ name: 'slipway_runs_started_total', help: 'Runs accepted, by kind', labelNames: ['kind'], registers: [this.registry] });
  private readonly ended = new Counter({ name: 'slipway_runs_ended_total', help: 'Runs ended, by kind and final status', labelNames: ['kind', 'status'], registers: [this.registry] });
  private readonly duration = new Histogram({ name: 'slipway_run_duration_seconds', help: 'How long runs\' processes ran, by kind and final status', labelNames: ['kind', 'status'], buckets: RUN_SECONDS, registers: [this.registry] });
  private readonly queueWait = new Histogram({ name: 'slipway_run_queue_wait_seconds', help: 'How long runs waited for a slot, by kind', labelNames: ['kind'], buckets: SHORT_SECONDS, registers: [this.registry] });
  private readonly engineLatency = new Histogram({ name: 'slipway_engine_call_duration_seconds', help: 'Container engine call latency, by operation', labelNames: ['operation'], buckets: SHORT_SECONDS, registers: [this.registry] });
  private readonly engineErrors = new Counter({ name: 'slipway_engine_call_errors_total', help: 'Container engine calls that failed, by operation', labelNames: ['operation'], registers: [this.registry] });
  private readonly poolMisses = new Counter({ name: 'slipway_pool_misses_total', help: 'Sandbox requests the warm pool had nothing ready for', registers: [this.registry] });
  /** By route template (never the raw URL: ids would make a series per run). */
  readonly httpRequests = new Counter({ name: 'slipway_http_requests_total', help: 'HTTP requests answered, by method, route and status', labelNames: ['method', 'route', 'status'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    for (const [name, help] of Object.entries(GAUGE_HELP) as [GaugeName, string][]) {
      const readers = this.readers;
      new Gauge({
        name: `slipway_${name}`,
        help,
        registers: [this.registry],
        collect() {
          this.set(readers.get(name)?.() ?? 0);
        },
      });
    }
  }

  runStarted(kind: string): void {
    this.started.inc({ kind });
  }

  runEnded(kind: string, status: string, durationSeconds: number): void {
    this.ended.inc({ kind, status });
    this.duration.observe({ kind, status }, durationSeconds);
  }

  runQueueWait(kind: string, seconds: number): void {
    this.queueWait.observe({ kind }, seconds);
  }

  engineCall(operation: string, seconds: number, failed: boolean): void {
    this.engineLatency.observe({ operation }, seconds);
    if (failed) this.engineErrors.inc({ operation });
  }

  poolMiss(): void {
    this.poolMisses.inc();
  }

  observe(gauge: GaugeName, read: () => number): void {
    this.readers.set(gauge, read);
  }
}

/**
 * GET /metrics (scope `read`: a token is needed where the server has tokens; open on a
 * server without them, which listens on loopback only), and the per-request counter.
 */
export function registerMetrics(app: FastifyInstance, metrics: PrometheusMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequests.inc({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status: reply.statusCode });
  });
  app.get('/metrics', { schema: { hide: true }, config: { scope: 'read', audit: false } }, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
}
