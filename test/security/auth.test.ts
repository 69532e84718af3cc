// Tokens and scopes on the REST door and SSE: 401 with WWW-Authenticate, 403 naming the
// scope, each token seeing only its own runs and containers unless admin, per-token
// policy, rate limits, stream caps, the audit trail, and refusing to start exposed
// without tokens.
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { pollUntilRunning } from '../fixtures/runs.js';
import { bearer, writeTokensFile } from '../fixtures/tokens.js';
import { LABEL_OWNER } from '../../lib/labels.js';

const tokensFile = await writeTokensFile([
  { name: 'alice', token: 'alice-secret-token', scopes: ['run', 'read'] },
  { name: 'bob', token: 'bob-secret-token', scopes: ['run', 'read'] },
  { name: 'reader', token: 'reader-secret-token', scopes: ['read'] },
  { name: 'ops', token: 'ops-secret-token', scopes: ['admin'] },
  { name: 'tight', token: 'tight-secret-token', scopes: ['run', 'read', 'pull'], policy: { image_allow: ['slipway-test/python:*'], memory_max_bytes: 64 * 1024 * 1024, max_concurrent_runs: 1 } },
]);
const logLines: string[] = [];
const gw = await startGateway({ SLIPWAY_TOKENS_FILE: tokensFile, SLIPWAY_MAX_STREAMS_PER_TOKEN: '1' }, { logLines });
t.teardown(() => gw.close());

const run = (token: string, body: Record<string, unknown>) => gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, ...body }, bearer(token));

t.test('no token, or a wrong one: 401 with WWW-Authenticate, and nothing runs', async (t) => {
  const missing = await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['true'] });
  t.equal(missing.status, 401);
  t.equal(missing.headers.get('www-authenticate'), 'Bearer realm="slipway"');
  t.match(missing.body.error, { code: 'SLIPWAY_ERR_UNAUTHORIZED' });
  const wrong = await run('not-a-token', { command: ['true'] });
  t.equal(wrong.status, 401);
  t.match(wrong.headers.get('www-authenticate'), /error="invalid_token"/);
  for (const path of ['/v1/runs', '/v1/containers', '/v1/runs/00000000-0000-0000-0000-000000000000/logs']) {
    t.equal((await gw.request('GET', path)).status, 401, `${path} needs a token`);
  }
  t.equal((await gw.request('GET', '/healthz')).status, 200, 'health stays public');
  t.equal((await gw.request('GET', '/openapi.json')).status, 200, 'so does the API description');
});

t.test('a missing scope is a 403 naming it', async (t) => {
  const res = await run('reader-secret-token', { command: ['true'] });
  t.equal(res.status, 403);
  t.match(res.body.error, { code: 'SLIPWAY_ERR_SCOPE_MISSING', message: /"run" scope/ });
  const pull = await gw.request('POST', '/v1/images/pull', { image: BUSYBOX_IMAGE }, bearer('alice-secret-token'));
  t.match(pull.body.error, { code: 'SLIPWAY_ERR_SCOPE_MISSING', message: /"pull" scope/ });
});

t.test('a token sees, follows and cancels only its own runs; admin sees all', async (t) => {
  const mine = await run('alice-secret-token', { command: ['echo', 'alice was here'] });
  t.match(mine.body, { status: 'succeeded', stdout: 'alice was here\n' });
  const id = mine.body.run_id;
  t.equal((await gw.request('GET', `/v1/runs/${id}`, undefined, bearer('alice-secret-token'))).status, 200);
  t.equal((await gw.request('GET', `/v1/runs/${id}`, undefined, bearer('bob-secret-token'))).status, 404, 'bob cannot see it');
  t.equal((await gw.request('GET', `/v1/runs/${id}/logs`, undefined, bearer('bob-secret-token'))).status, 404, 'nor follow it');
  t.equal((await gw.request('GET', `/v1/runs/${id}`, undefined, bearer('ops-secret-token'))).status, 200, 'admin can');
  const bobsList = await gw.request('GET', '/v1/runs', undefined, bearer('bob-secret-token'));
  t.notOk(bobsList.body.runs.some((r: any) => r.run_id === id), 'not in bob\'s list');
  const opsList = await gw.request('GET', '/v1/runs', undefined, bearer('ops-secret-token'));
  t.ok(opsList.body.runs.some((r: any) => r.run_id === id), 'in the admin\'s list');

  const long = await run('alice-secret-token', { command: ['sleep', '60'], wait: false });
  const running = await pollUntilRunning({ request: (m, p) => gw.request(m, p, undefined, bearer('alice-secret-token')) }, long.body.run_id);
  const bobsContainers = await gw.request('GET', '/v1/containers', undefined, bearer('bob-secret-token'));
  t.same(bobsContainers.body.containers, [], 'bob lists none of alice\'s containers');
  t.equal((await gw.request('POST', `/v1/containers/${running.container_id}/stop`, {}, bearer('bob-secret-token'))).status, 404, 'nor stops them');
  t.equal((await gw.request('DELETE', `/v1/runs/${long.body.run_id}`, undefined, bearer('bob-secret-token'))).status, 404, 'nor cancels her run');
  const alicesContainers = await gw.request('GET', '/v1/containers', undefined, bearer('alice-secret-token'));
  t.match(alicesContainers.body.containers, [{ id: running.container_id, labels: { [LABEL_OWNER]: 'alice' } }]);
  const cancelled = await gw.request('DELETE', `/v1/runs/${long.body.run_id}`, undefined, bearer('alice-secret-token'));
  t.match(cancelled.body, { status: 'cancelled' });
});

t.test('per-token policy: image allow-list and caps are 403s naming the rule; its run bound is a 429', async (t) => {
  const image = await run('tight-secret-token', { command: ['true'] });
  t.equal(image.status, 403);
  t.match(image.body.error, { code: 'SLIPWAY_ERR_POLICY_DENIED', field: 'image', message: /allow-list/ });
  const memory = await gw.request('POST', '/v1/containers/run', { image: 'slipway-test/python:3', command: ['true'], memory_limit: '128m' }, bearer('tight-secret-token'));
  t.match(memory.body.error, { code: 'SLIPWAY_ERR_POLICY_DENIED', field: 'memory_limit' });
  const ok = await gw.request('POST', '/v1/payloads/run', { language: 'python', payload: 'print("allowed")' }, bearer('tight-secret-token'));
  t.match(ok.body, { status: 'succeeded', stdout: 'allowed\n' }, 'the allowed image runs, with the token\'s lower default memory');
  const first = await gw.request('POST', '/v1/payloads/run', { language: 'python', payload: 'import time; time.sleep(30)', wait: false }, bearer('tight-secret-token'));
  const second = await gw.request('POST', '/v1/payloads/run', { language: 'python', payload: 'print(1)', wait: false }, bearer('tight-secret-token'));
  t.equal(second.status, 429, 'one run at a time for this token');
  t.ok(second.headers.get('retry-after'));
  await gw.request('DELETE', `/v1/runs/${first.body.run_id}`, undefined, bearer('tight-secret-token'));
});

t.test('open SSE streams per token are capped', async (t) => {
  const long = await run('bob-secret-token', { command: ['sleep', '5'], wait: false });
  const controller = new AbortController();
  const first = await fetch(`${gw.url}/v1/runs/${long.body.run_id}/logs`, { headers: bearer('bob-secret-token'), signal: controller.signal });
  t.equal(first.status, 200);
  const second = await gw.request('GET', `/v1/runs/${long.body.run_id}/logs`, undefined, bearer('bob-secret-token'));
  t.equal(second.status, 429);
  controller.abort();
  await first.body?.cancel().catch(() => undefined);
  await gw.request('DELETE', `/v1/runs/${long.body.run_id}`, undefined, bearer('bob-secret-token'));
});

t.test('the audit trail: one line per operation, who and what, no secrets', async (t) => {
  const secretEnv = 'VALUE-THAT-MUST-NOT-BE-LOGGED';
  const res = await run('alice-secret-token', { command: ['true'], environment: { API_KEY: secretEnv } });
  await new Promise((r) => setTimeout(r, 50));
  const audits = logLines.map((l) => JSON.parse(l)).filter((l) => l.audit);
  t.match(
    audits.find((a) => a.run_id === res.body.run_id),
    { who: 'alice', op: 'POST /v1/containers/run', image: BUSYBOX_IMAGE, outcome: '200 succeeded' },
  );
  t.ok(audits.some((a) => a.who === 'anonymous' && a.outcome === 401), 'refused requests are audited too');
  const all = logLines.join('\n');
  t.notMatch(all, secretEnv, 'environment values are never logged');
  t.notMatch(all, /alice-secret-token|bob-secret-token/, 'nor tokens');
});

t.test('the rate limit per token answers 429 with Retry-After', async (t) => {
  const limited = await startGateway({ SLIPWAY_TOKENS_FILE: tokensFile, SLIPWAY_RATE_LIMIT: '5' });
  t.teardown(() => limited.close());
  const statuses: number[] = [];
  for (let i = 0; i < 7; i++) statuses.push((await limited.request('GET', '/v1/runs', undefined, bearer('alice-secret-token'))).status);
  t.same(statuses, [200, 200, 200, 200, 200, 429, 429]);
  const res = await limited.request('GET', '/v1/runs', undefined, bearer('alice-secret-token'));
  t.ok(Number(res.headers.get('retry-after')) > 0);
  t.match(res.body.error, { code: 'SLIPWAY_ERR_RATE_LIMITED' });
  t.equal((await limited.request('GET', '/v1/runs', undefined, bearer('bob-secret-token'))).status, 200, 'another token has its own budget');
});

t.test('bound beyond loopback without tokens, the gateway refuses to start and says why', async (t) => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: root,
    env: { ...process.env, HOST: '0.0.0.0', PORT: '0', SLIPWAY_PROVISION_ENGINE: 'false', SLIPWAY_TOKENS_FILE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.not(code, 0);
  t.match(output, /not a loopback address and no SLIPWAY_TOKENS_FILE/);
});
