// get_server_info (GET /v1/info) tells each caller the policy its runs are held to,
// after its token's overrides; other owners' names go only to an admin, and only an
// admin filters the run list by another owner.
import t from 'tap';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { bearer, writeTokensFile, type TestToken } from '../fixtures/tokens.js';

const MIB = 1024 * 1024;
const ADMIN: TestToken = { name: 'ops', token: 'info-admin-token-0123456789', scopes: ['admin'] };
const SMALL: TestToken = {
  name: 'small',
  token: 'info-small-token-0123456789',
  scopes: ['run', 'read'],
  policy: { memory_max_bytes: 64 * MIB, cpu_max: 0.5, timeout_max_seconds: 30, image_allow: ['slipway-test/*'], max_concurrent_runs: 2 },
};
const PULLER: TestToken = { name: 'puller', token: 'info-pull-token-0123456789', scopes: ['pull'] };

const gw = await startGateway({ SLIPWAY_TOKENS_FILE: await writeTokensFile([ADMIN, SMALL, PULLER]) });
t.teardown(() => gw.close());
const as = (who: TestToken) => bearer(who.token);

t.test('a token sees its own caps, defaults lowered to them, and the engine that answers', async (t) => {
  const res = await gw.request('GET', '/v1/info', undefined, as(SMALL));
  t.equal(res.status, 200);
  t.match(res.body, {
    caller: { name: 'small', sees_all: false },
    policy: {
      caps: { memory_bytes: 64 * MIB, cpus: 0.5, timeout_seconds: 30 },
      defaults: { memory_bytes: 64 * MIB, cpus: 0.5, timeout_seconds: 30 },
      image_allow: ['slipway-test/*'],
      max_concurrent_runs: 2,
      network_modes: ['none'],
    },
    engine: { backend: 'docker', reachable: true, error: null },
  });
  t.notOk('owners' in res.body, 'other callers\' names are not told to a caller who cannot see their runs');
});

t.test('an admin sees the server\'s caps and the owners with runs kept', async (t) => {
  const run = await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['true'] }, as(SMALL));
  t.equal(run.status, 200);
  const res = await gw.request('GET', '/v1/info', undefined, as(ADMIN));
  t.match(res.body, { caller: { name: 'ops', sees_all: true }, policy: { caps: { memory_bytes: 2048 * MIB, cpus: 2 } }, owners: ['small'] });
});

t.test('the read scope is needed, and without a token nothing is told', async (t) => {
  t.equal((await gw.request('GET', '/v1/info', undefined, as(PULLER))).status, 403);
  t.equal((await gw.request('GET', '/v1/info')).status, 401);
});

t.test('an admin lists one owner\'s runs; another caller may name only itself', async (t) => {
  const mine = (await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['true'] }, as(ADMIN))).body.run_id;
  const small = await gw.request('GET', '/v1/runs?owner=small', undefined, as(ADMIN));
  t.equal(small.status, 200);
  t.ok(small.body.runs.length >= 1);
  t.notOk(small.body.runs.some((r: { run_id: string }) => r.run_id === mine), 'the admin\'s own run is filtered out');
  const ops = await gw.request('GET', '/v1/runs?owner=ops', undefined, as(ADMIN));
  t.same(ops.body.runs.map((r: { run_id: string }) => r.run_id), [mine]);
  t.equal((await gw.request('GET', '/v1/runs?owner=small', undefined, as(SMALL))).status, 200, 'naming itself is allowed');
  const refused = await gw.request('GET', '/v1/runs?owner=ops', undefined, as(SMALL));
  t.equal(refused.status, 403);
  t.match(refused.body.error, { code: 'SLIPWAY_ERR_POLICY_DENIED', field: 'owner' });
});
