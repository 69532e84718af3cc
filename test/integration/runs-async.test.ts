// Runs you can follow: asynchronous start, look-up, listing, cancel, idempotency,
// bounded load and retention, over REST on the real engine.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startGateway } from '../fixtures/gateway.js';
import { waitUntilGone } from '../fixtures/engine-view.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { pollUntilFinal, pollUntilRunning } from '../fixtures/runs.js';

const gw = await startGateway({ SLIPWAY_MAX_CONCURRENT_RUNS: '2', SLIPWAY_MAX_QUEUED_RUNS: '1', SLIPWAY_RETRY_AFTER_SECONDS: '7' });
t.teardown(() => gw.close());

const sh = (script: string, extra: Record<string, unknown> = {}) => ({ image: BUSYBOX_IMAGE, command: ['sh', '-c', script], ...extra });

t.test('wait: false answers 202 with the run and its Location; polling reaches the result', async (t) => {
  const res = await gw.request('POST', '/v1/containers/run', sh('echo started; sleep 1; echo done', { wait: false }));
  t.equal(res.status, 202);
  t.match(res.body, { run_id: /^[0-9a-f-]{36}$/, status: 'queued', success: false, exit_code: null });
  t.equal(res.headers.get('location'), `/v1/runs/${res.body.run_id}`);
  const running = await gw.request('GET', `/v1/runs/${res.body.run_id}`);
  t.match(running.body, { kind: 'image', image: BUSYBOX_IMAGE, status: /queued|running/ });
  const final = await pollUntilFinal(gw, res.body.run_id);
  t.match(final, { status: 'succeeded', success: true, exit_code: 0, stdout: 'started\ndone\n', stderr: '', kind: 'image', log_truncated: false });
  t.ok(Date.parse(final.created_at) <= Date.parse(final.started_at) && Date.parse(final.started_at) <= Date.parse(final.finished_at), 'timestamps in order');
  t.ok(await waitUntilGone(final.container_id));
});

t.test('a payload run started asynchronously records its kind', async (t) => {
  const res = await gw.request('POST', '/v1/payloads/run', { language: 'sh', payload: 'echo payload', wait: false });
  t.equal(res.status, 202);
  t.match(await pollUntilFinal(gw, res.body.run_id), { kind: 'payload', status: 'succeeded', stdout: 'payload\n' });
});

t.test('an asynchronous run whose image is missing ends in error with the reason', async (t) => {
  const res = await gw.request('POST', '/v1/containers/run', { image: 'slipway-test/absent:1', pull_policy: 'never', wait: false });
  t.equal(res.status, 202);
  t.match(await pollUntilFinal(gw, res.body.run_id), { status: 'error', success: false, error_message: /not present/ });
});

t.test('listing filters by status and kind, newest first, and pages with a cursor', async (t) => {
  const all = await gw.request('GET', '/v1/runs?limit=2');
  t.equal(all.status, 200);
  t.equal(all.body.runs.length, 2);
  t.ok(all.body.next_cursor, 'there is a next page');
  t.ok(Date.parse(all.body.runs[0].created_at) >= Date.parse(all.body.runs[1].created_at), 'newest first');
  const next = await gw.request('GET', `/v1/runs?limit=2&cursor=${all.body.next_cursor}`);
  t.equal(next.body.runs.length, 1, 'the third run is on the second page');
  t.equal(next.body.next_cursor, null);
  t.notOk(next.body.runs.some((r: any) => all.body.runs.some((a: any) => a.run_id === r.run_id)), 'pages do not overlap');
  const payloads = await gw.request('GET', '/v1/runs?kind=payload');
  t.same(payloads.body.runs.map((r: any) => r.kind), ['payload']);
  const errors = await gw.request('GET', '/v1/runs?status=error');
  t.same(errors.body.runs.map((r: any) => r.status), ['error']);
  const future = await gw.request('GET', `/v1/runs?since=${new Date(Date.now() + 60_000).toISOString()}`);
  t.same(future.body.runs, []);
  t.equal((await gw.request('GET', '/v1/runs?cursor=bogus')).status, 400);
  t.equal((await gw.request('GET', '/v1/runs/00000000-0000-0000-0000-000000000000')).status, 404);
});

t.test('DELETE cancels a running run: container stopped and removed, status cancelled', async (t) => {
  const res = await gw.request('POST', '/v1/containers/run', sh('echo up; sleep 60', { wait: false }));
  await pollUntilRunning(gw, res.body.run_id);
  const cancelled = await gw.request('DELETE', `/v1/runs/${res.body.run_id}`);
  t.equal(cancelled.status, 200);
  t.match(cancelled.body, { status: 'cancelled', success: false, error_message: /cancelled/ });
  t.ok(await waitUntilGone(cancelled.body.container_id), 'container gone');
  const again = await gw.request('DELETE', `/v1/runs/${res.body.run_id}`);
  t.equal(again.status, 409, 'an ended run cannot be cancelled again');
});

t.test('the same Idempotency-Key returns the same run; reused for another request, a 409', async (t) => {
  const body = sh('echo once', { wait: false });
  const first = await gw.request('POST', '/v1/containers/run', body, { 'idempotency-key': 'key-1' });
  const second = await gw.request('POST', '/v1/containers/run', body, { 'idempotency-key': 'key-1' });
  t.equal(second.body.run_id, first.body.run_id);
  await pollUntilFinal(gw, first.body.run_id);
  const waited = await gw.request('POST', '/v1/containers/run', { ...body, wait: true }, { 'idempotency-key': 'key-2' });
  const retried = await gw.request('POST', '/v1/containers/run', { ...body, wait: true }, { 'idempotency-key': 'key-2' });
  t.equal(retried.body.run_id, waited.body.run_id);
  t.equal(retried.body.stdout, 'once\n');
  const conflict = await gw.request('POST', '/v1/containers/run', sh('echo other', { wait: false }), { 'idempotency-key': 'key-1' });
  t.equal(conflict.status, 409);
  t.match(conflict.body.error, { code: 'SLIPWAY_ERR_CONFLICT', field: 'idempotency_key' });
  const viaBody = await gw.request('POST', '/v1/containers/run', { ...body, idempotency_key: 'key-1' });
  t.equal(viaBody.body.run_id, first.body.run_id, 'the body field is the same key');
});

t.test('beyond the concurrency and queue bounds: 429 with Retry-After; queued runs wait their turn', async (t) => {
  const started = [];
  for (let i = 0; i < 3; i++) started.push(await gw.request('POST', '/v1/containers/run', sh('sleep 30', { wait: false })));
  t.same(started.map((r) => r.status), [202, 202, 202], 'two run, one queues');
  const refused = await gw.request('POST', '/v1/containers/run', sh('echo too many', { wait: false }));
  t.equal(refused.status, 429);
  t.equal(refused.headers.get('retry-after'), '7');
  t.match(refused.body.error, { code: 'SLIPWAY_ERR_RATE_LIMITED' });
  const queued = started[2]!.body.run_id;
  t.equal((await gw.request('GET', `/v1/runs/${queued}`)).body.status, 'queued');
  const cancelledQueued = await gw.request('DELETE', `/v1/runs/${queued}`);
  t.match(cancelledQueued.body, { status: 'cancelled', container_id: null, error_message: /before it started/ });
  for (const r of started.slice(0, 2)) await gw.request('DELETE', `/v1/runs/${r.body.run_id}`);
  const after = await gw.request('POST', '/v1/containers/run', sh('echo room again'));
  t.match(after.body, { status: 'succeeded', stdout: 'room again\n' });
});

t.test('records and logs expire after the retention', async (t) => {
  const short = await startGateway({ SLIPWAY_RUN_RETENTION_SECONDS: '1', SLIPWAY_RUN_SWEEP_INTERVAL_SECONDS: '1' });
  t.teardown(() => short.close());
  const res = await short.request('POST', '/v1/containers/run', sh('echo keep me briefly'));
  t.equal((await short.request('GET', `/v1/runs/${res.body.run_id}`)).status, 200);
  const logFile = join(short.dataDir, 'logs', `${res.body.run_id}.ndjson`);
  t.ok(existsSync(logFile), 'the log is on disk');
  await new Promise((r) => setTimeout(r, 3500));
  t.equal((await short.request('GET', `/v1/runs/${res.body.run_id}`)).status, 404, 'the record expired');
  t.notOk(existsSync(logFile), 'the log file went with it');
});

t.test('listing gives summaries without output unless include=output asks; the run itself keeps it', async (t) => {
  const ran = await gw.request('POST', '/v1/containers/run', sh('echo listed-output; echo listed-error >&2'));
  t.equal(ran.body.status, 'succeeded');
  const summaries = await gw.request('GET', '/v1/runs?limit=1');
  t.equal(summaries.status, 200);
  t.equal(summaries.body.runs[0].run_id, ran.body.run_id);
  t.match(summaries.body.runs[0], { status: 'succeeded', exit_code: 0, kind: 'image', stdout_truncated: false });
  t.notOk('stdout' in summaries.body.runs[0] || 'stderr' in summaries.body.runs[0], 'no output bodies in a summary');
  const full = await gw.request('GET', '/v1/runs?limit=1&include=output');
  t.match(full.body.runs[0], { run_id: ran.body.run_id, stdout: 'listed-output\n', stderr: 'listed-error\n' });
  t.match((await gw.request('GET', `/v1/runs/${ran.body.run_id}`)).body, { stdout: 'listed-output\n', stderr: 'listed-error\n' });
  const bad = await gw.request('GET', '/v1/runs?include=everything');
  t.equal(bad.status, 400);
  t.match(bad.body.error, { field: 'include', message: /output/ });
});
