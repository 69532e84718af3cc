// Shared capacity that one caller could take (issue #9), on the REST door: execution
// slots, log-stream slots, token guessing, and the data directory. Each attack runs
// against a real gateway and engine, and is followed by another caller's normal
// request, which must still be served.
import t, { type Test } from 'tap';
import { request as httpRequest } from 'node:http';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { pollUntilFinal, pollUntilRunning } from '../fixtures/runs.js';
import { readSse } from '../fixtures/sse.js';
import { bearer, writeTokensFile } from '../fixtures/tokens.js';

const FLOOD = 'flood-secret-token';
const ALICE = 'alice-secret-token';
const HOARDER = 'hoarder-secret-token';
const tokensFile = await writeTokensFile([
  // Its own policy allows more runs than the server executes at once: the attack.
  { name: 'flood', token: FLOOD, scopes: ['run', 'read'], policy: { max_concurrent_runs: 20 } },
  { name: 'alice', token: ALICE, scopes: ['run', 'read'] },
  { name: 'hoarder', token: HOARDER, scopes: ['run', 'read'] },
]);
const STORAGE_BUDGET = 150_000;
const gw = await startGateway({
  SLIPWAY_TOKENS_FILE: tokensFile,
  SLIPWAY_MAX_CONCURRENT_RUNS: '2',
  SLIPWAY_MAX_QUEUED_PER_CALLER: '2',
  SLIPWAY_MAX_STREAMS_PER_TOKEN: '2',
  SLIPWAY_AUTH_FAILURES_PER_MINUTE: '5',
  SLIPWAY_RUN_STORAGE_PER_CALLER_BYTES: String(STORAGE_BUDGET),
  SLIPWAY_RUN_RECORDS_PER_CALLER: '4',
});
t.teardown(() => gw.close());

const as = (token: string) => ({ request: (method: string, path: string, body?: unknown) => gw.request(method, path, body, bearer(token)) });
const run = (token: string, body: Record<string, unknown>, signal?: AbortSignal) =>
  fetch(`${gw.url}/v1/containers/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(token) },
    body: JSON.stringify({ image: BUSYBOX_IMAGE, ...body }),
    signal: signal ?? null,
  }).then(async (res) => ({ status: res.status, headers: res.headers, body: (await res.json()) as any }));

/** A normal run by another caller: it must start and finish (bounded, so an attack that holds fails the test, not hangs it). */
async function aliceIsServed(t: Test, what = 'another caller\'s run is still served'): Promise<void> {
  const res = await run(ALICE, { command: ['echo', 'served'] }, AbortSignal.timeout(30_000));
  t.match(res.body, { status: 'succeeded', stdout: 'served\n' }, what);
}

/** A GET from a chosen loopback source address (fetch cannot pick one). */
function getFrom(localAddress: string, path: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${gw.url}${path}`, { localAddress, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('one token flooding the queue with long runs holds one slot of two, and another token\'s run starts and finishes', async (t) => {
  const flood: string[] = [];
  t.teardown(() => Promise.all(flood.map((id) => gw.request('DELETE', `/v1/runs/${id}`, undefined, bearer(FLOOD)))));
  for (let i = 0; i < 3; i++) {
    const res = await run(FLOOD, { command: ['sleep', '120'], timeout: 300, wait: false });
    t.equal(res.status, 202, `flood run ${i + 1} accepted`);
    flood.push(res.body.run_id);
  }
  await pollUntilRunning(as(FLOOD), flood[0]!);
  const beyond = await run(FLOOD, { command: ['sleep', '120'], wait: false });
  t.equal(beyond.status, 429, 'a caller\'s own queue is bounded, whatever its policy allows');
  t.match(beyond.body.error, { code: 'SLIPWAY_ERR_RATE_LIMITED', message: /1 runs executing and 2 queued/ });
  t.ok(Number(beyond.headers.get('retry-after')) > 0, 'with Retry-After');
  const states = await Promise.all(flood.map(async (id) => (await gw.request('GET', `/v1/runs/${id}`, undefined, bearer(FLOOD))).body.status));
  t.strictSame(states, ['running', 'queued', 'queued'], 'the flood executes one run at a time: the server\'s per-caller share');
  await aliceIsServed(t, 'alice\'s run starts and finishes while the flood\'s runs go on');
});

t.test('rejected log-stream requests take no stream slot; a valid stream still opens', async (t) => {
  const mine = await run(ALICE, { command: ['echo', 'streamed'] });
  t.equal(mine.body.status, 'succeeded');
  const unknown = '00000000-0000-4000-8000-00000000dead';
  const rejected: [string, Record<string, string>, number][] = [
    [`/v1/runs/${unknown}/logs`, bearer(ALICE), 404],
    [`/v1/runs/${mine.body.run_id}/logs?last_event_id=100000000000000000000`, bearer(ALICE), 400],
    [`/v1/runs/${mine.body.run_id}/logs?format=csv`, bearer(ALICE), 400],
    [`/v1/runs/${mine.body.run_id}/logs`, bearer(FLOOD), 404],
  ];
  for (const [path, headers, status] of rejected) {
    for (let i = 0; i < 5; i++) t.equal((await gw.request('GET', path, undefined, headers)).status, status, `${path} is ${status}`);
  }
  const events = await readSse(`${gw.url}/v1/runs/${mine.body.run_id}/logs`, bearer(ALICE));
  t.match(events.at(-1), { event: 'end', data: { data: { status: 'succeeded' } } }, 'the stream opens and replays the run');
  const again = await Promise.all([1, 2].map(() => readSse(`${gw.url}/v1/runs/${mine.body.run_id}/logs`, bearer(ALICE))));
  t.equal(again.length, 2, 'streams that ended gave their slots back: both slots open again');
  await aliceIsServed(t);
});

t.test('guessing tokens is limited per address: 429 with Retry-After, while a valid token from another address works', async (t) => {
  const attacker = '127.0.0.3';
  for (let i = 0; i < 5; i++) {
    t.equal((await getFrom(attacker, '/v1/runs', bearer(`guess-${i}`))).status, 401, `guess ${i + 1} is a 401`);
  }
  const locked = await getFrom(attacker, '/v1/runs', bearer('guess-5'));
  t.equal(locked.status, 429, 'the next guess is refused');
  t.ok(Number(locked.headers['retry-after']) > 0, 'with Retry-After');
  t.equal((await getFrom(attacker, '/v1/runs', bearer(ALICE))).status, 429, 'a hit would answer the same: guessing learns nothing');
  t.equal((await getFrom('127.0.0.2', '/v1/runs', bearer(ALICE))).status, 200, 'the token works from another address');
  await aliceIsServed(t);
});

t.test('one token\'s runs cannot fill the data directory: its oldest finished runs go beyond its budget', async (t) => {
  const ids: string[] = [];
  for (let i = 0; i < 8; i++) {
    const res = await run(HOARDER, { command: ['sh', '-c', 'yes 0123456789abcdef | head -c 40000'] });
    t.equal(res.body.status, 'succeeded', `hoarder run ${i + 1}`);
    ids.push(res.body.run_id);
  }
  const kept = (await gw.request('GET', '/v1/runs?limit=100', undefined, bearer(HOARDER))).body.runs.map((r: any) => r.run_id);
  t.ok(kept.length >= 1 && kept.length < 4, `only the newest runs are kept (${kept.length})`);
  t.strictSame(kept, ids.slice(-kept.length).reverse(), 'the newest, newest first');
  const logs = readdirSync(join(gw.dataDir, 'logs'));
  const hoarderFiles = logs.filter((file) => ids.some((id) => file.startsWith(id)));
  t.ok(hoarderFiles.every((file) => kept.some((id: string) => file.startsWith(id))), 'the deleted runs\' logs are gone too');
  const bytes = hoarderFiles.reduce((sum, file) => sum + statSync(join(gw.dataDir, 'logs', file)).size, 0);
  t.ok(bytes <= STORAGE_BUDGET, `the hoarder's logs take ${bytes} bytes, within its budget`);
  const gone = await gw.request('GET', `/v1/runs/${ids[0]}`, undefined, bearer(HOARDER));
  t.equal(gone.status, 404, 'the oldest is forgotten');
  await aliceIsServed(t);
  const final = await pollUntilFinal(as(HOARDER), ids.at(-1)!);
  t.equal(final.stdout.length, 40_000, 'the newest run is whole');
});
