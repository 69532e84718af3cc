// GET /metrics: Prometheus text that moves with real runs on the real engine, and the
// `read` scope guarding it where the server has tokens.
import t from 'tap';
import { startGateway, type Gateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { bearer, writeTokensFile } from '../fixtures/tokens.js';

/** The value of one series (`name{labels}` exactly as exposed), 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

async function scrape(gw: Gateway, headers: Record<string, string> = {}): Promise<string> {
  const res = await gw.request('GET', '/metrics', undefined, headers);
  if (res.status !== 200) throw new Error(`scrape answered ${res.status}`);
  return res.body as string;
}

t.test('on a server without tokens, counters and histograms move with runs', async (t) => {
  const gw = await startGateway();
  t.teardown(() => gw.close());
  const before = await scrape(gw);
  t.match(before, /^# HELP process_cpu_user_seconds_total/m, 'the process defaults are there');
  t.equal(sample(before, 'slipway_runs_queued'), 0);
  t.equal(sample(before, 'slipway_sandboxes_live'), 0, 'sandbox gauges read 0 until sandboxes feed them');

  const ok = await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['echo', 'hi'] });
  t.equal(ok.status, 200);
  const failed = await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'exit 3'] });
  t.equal(failed.body.status, 'failed');

  const after = await scrape(gw);
  const moved = (series: string) => sample(after, series) - sample(before, series);
  t.equal(moved('slipway_runs_started_total{kind="image"}'), 2);
  t.equal(moved('slipway_runs_ended_total{kind="image",status="succeeded"}'), 1);
  t.equal(moved('slipway_runs_ended_total{kind="image",status="failed"}'), 1);
  t.equal(moved('slipway_run_duration_seconds_count{kind="image",status="succeeded"}'), 1);
  t.equal(moved('slipway_run_queue_wait_seconds_count{kind="image"}'), 2);
  t.ok(moved('slipway_engine_call_duration_seconds_count{operation="container create"}') >= 2, 'engine calls are timed by operation');
  t.ok(moved('slipway_http_requests_total{method="POST",route="/v1/containers/run",status="200"}') >= 2, 'requests counted by route template and status');
  t.equal(sample(after, 'slipway_runs_executing'), 0, 'nothing executes once both ended');
});

t.test('an engine call that fails is counted as an error of its operation', async (t) => {
  const gw = await startGateway();
  t.teardown(() => gw.close());
  const before = await scrape(gw);
  const res = await gw.request('POST', '/v1/containers/run', { image: 'slipway-test/absent:1', pull_policy: 'never' });
  t.equal(res.status, 404);
  const after = await scrape(gw);
  const series = 'slipway_engine_call_errors_total{operation="image inspect"}';
  t.ok(sample(after, series) - sample(before, series) >= 1, 'the engine\'s 404 on image inspect is counted');
});

t.test('with tokens, a scrape needs a token with the read scope', async (t) => {
  const tokensFile = await writeTokensFile([
    { name: 'prometheus', token: 'prometheus-secret-token', scopes: ['read'] },
    { name: 'runner', token: 'runner-secret-token', scopes: ['run'] },
  ]);
  const gw = await startGateway({ SLIPWAY_TOKENS_FILE: tokensFile });
  t.teardown(() => gw.close());
  t.equal((await gw.request('GET', '/metrics')).status, 401);
  t.equal((await gw.request('GET', '/metrics', undefined, bearer('runner-secret-token'))).status, 403);
  const res = await gw.request('GET', '/metrics', undefined, bearer('prometheus-secret-token'));
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  t.match(res.body, /slipway_mcp_sessions_open 0/);
});
