// Issue 9, "data and errors", row by row against the real engine: no engine text about
// others' containers reaches a caller, and malformed input is invalid input, never an
// internal error. Each attack is followed by a normal request. (The log gap after a
// kill -9: log-gap-attack.test.ts; registries: registry-attacks.test.ts.)
import t from 'tap';
import { docker, TEST_INSTANCE } from '../fixtures/docker.js';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { rawInitialize } from '../fixtures/mcp.js';
import { pollUntilFinal, pollUntilRunning } from '../fixtures/runs.js';
import { bearer, writeTokensFile } from '../fixtures/tokens.js';

const INSTANCE = `${TEST_INSTANCE}-data`;
const ALICE = 'alice-data-token';
const tokensFile = await writeTokensFile([
  { name: 'alice', token: ALICE, scopes: ['run', 'read'] },
  { name: 'bob', token: 'bob-data-token', scopes: ['run', 'read'] },
]);
const gw = await startGateway({ SLIPWAY_INSTANCE: INSTANCE, SLIPWAY_TOKENS_FILE: tokensFile });
t.teardown(() => gw.close());

const asAlice = (method: string, path: string, body?: unknown) => gw.request(method, path, body, bearer(ALICE));
async function nextRun(): Promise<unknown> {
  return (await asAlice('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['echo', 'next'] })).body;
}
const NEXT_OK = { status: 'succeeded', stdout: 'next\n' };

t.test('a container id prefix shared only by others\' containers answers exactly like an unknown one', async (t) => {
  // Seventeen containers that are not alice's: two of them must share a first hex digit.
  const others = await Promise.all(
    Array.from({ length: 17 }, () =>
      docker.createContainer({ Image: BUSYBOX_IMAGE, Cmd: ['true'], Labels: { 'io.slipway.managed': 'true', 'io.slipway.instance': `${INSTANCE}-others` }, HostConfig: { NetworkMode: 'none' } }),
    ),
  );
  t.teardown(() => Promise.all(others.map((c) => c.remove({ force: true }))));
  const ids = others.map((c) => c.id);
  const ambiguous = [...'0123456789abcdef'].find((d) => ids.filter((id) => id.startsWith(d)).length >= 2)!;
  const everyId = (await docker.listContainers({ all: true })).map((c) => c.Id);
  const unknown = ['f00d', 'dead', 'beef', 'c0ffee', '0ddba11'].find((p) => !everyId.some((id) => id.startsWith(p)))!;

  const answers = [];
  for (const ref of [ambiguous, unknown, ids[0]!.slice(0, 12), ids[0]!]) {
    const res = await asAlice('POST', `/v1/containers/${ref}/stop`, {});
    answers.push({ status: res.status, body: JSON.stringify(res.body).replaceAll(ref, '<ref>') });
  }
  t.equal(answers[0]!.status, 404, 'ambiguous among others: 404');
  t.notMatch(answers[0]!.body, /multiple|IDs|prefix/i, 'no engine text about others\' containers');
  for (const [i, answer] of answers.entries()) t.strictSame(answer, answers[1], `answer ${i} is the unknown answer`);

  // Alice's own container, by a short prefix and by its name: found and stopped.
  const start = await asAlice('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['sleep', '60'], wait: false });
  const running = await pollUntilRunning({ request: asAlice }, start.body.run_id);
  const stop = await asAlice('POST', `/v1/containers/${running.container_id.slice(0, 12)}/stop`, { timeout: 0 });
  t.match(stop, { status: 200, body: { success: true, container_id: running.container_id, run_id: start.body.run_id } });
  t.match(await pollUntilFinal({ request: asAlice }, start.body.run_id), { status: 'cancelled' });
  t.match(await nextRun(), NEXT_OK, 'the next run works');
});

t.test('malformed time filters on GET /v1/runs are 400 naming the field, not internal errors', async (t) => {
  for (const [field, value] of [['since', 'yesterday'], ['since', '2026-13-45'], ['until', '2026-13-45T00:00:00Z'], ['until', '2026-02-30T10:00:00Z'], ['since', '2026-01-01T25:00:00Z']]) {
    const res = await asAlice('GET', `/v1/runs?${field}=${encodeURIComponent(value!)}`);
    t.equal(res.status, 400, `${field}=${value}`);
    t.match(res.body.error, { code: 'SLIPWAY_ERR_INVALID_INPUT', field, message: `${field} must be an ISO 8601 date-time such as 2026-01-31T12:00:00Z` });
  }
  t.equal((await asAlice('GET', '/v1/runs?since=2026-01-01T00:00:00Z&until=2099-12-31T23:59:59.999%2B02:00')).status, 200, 'real times are served');
  t.match(await nextRun(), NEXT_OK, 'the next run works');
});

t.test('very deeply nested MCP tool arguments are a tool error naming the field, not an internal error', async (t) => {
  const mcpUrl = `${gw.url}/mcp`;
  const headers = { ...bearer(ALICE), 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const session = await rawInitialize(mcpUrl, bearer(ALICE));
  const deep = `${'['.repeat(10_000)}"x"${']'.repeat(10_000)}`;
  // Written as text: JSON.stringify itself overflows the stack on such a value.
  const body = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"execute_docker_container","arguments":{"image":"${BUSYBOX_IMAGE}","environment":${deep}}}}`;
  const res = await fetch(mcpUrl, { method: 'POST', headers: { ...headers, 'mcp-session-id': session }, body });
  const text = await res.text();
  // A tool error the model sees (isError), naming the field, as every input error on the MCP door.
  t.match(text, /"io\.slipway\/error":\{"code":"SLIPWAY_ERR_INVALID_INPUT","message":"environment is nested more than 32 levels deep","field":"environment"\}/);
  t.match(text, /"isError":true/);
  t.notMatch(text, /SLIPWAY_ERR_INTERNAL/);
  const call = `{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"execute_docker_container","arguments":{"image":"${BUSYBOX_IMAGE}","command":["echo","next"]}}}`;
  const next = await (await fetch(mcpUrl, { method: 'POST', headers: { ...headers, 'mcp-session-id': session }, body: call })).text();
  t.match(next, /"status":"succeeded"/, 'the same session serves the next call');
  t.match(await nextRun(), NEXT_OK, 'the next run works');
});
