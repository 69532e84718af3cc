// SECURITY.md's attack table, row by row, against the real engine: each attack ends in
// its safe outcome, and the gateway serves the next request normally. (Tokens:
// auth.test.ts and mcp-auth.test.ts; a killed gateway: integration/runs-restart.test.ts;
// forged Origin and Host: integration/mcp-sessions.test.ts and below.)
import t from 'tap';
import { connect } from 'node:net';
import { startGateway, type Gateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE, PYTHON_IMAGE } from '../fixtures/images.js';
import { waitUntilGone } from '../fixtures/engine-view.js';
import { startEngineProxy } from '../fixtures/engine-proxy.js';
import { INITIALIZE, rawRequest } from '../fixtures/mcp.js';
import { pollUntilFinal } from '../fixtures/runs.js';

const gw = await startGateway({
  SLIPWAY_OUTPUT_LIMIT_BYTES: String(8 * 1024 * 1024),
  SLIPWAY_BODY_LIMIT_BYTES: String(256 * 1024),
  SLIPWAY_HEADERS_TIMEOUT_SECONDS: '2',
  SLIPWAY_REQUEST_TIMEOUT_SECONDS: '3',
  SLIPWAY_MAX_CONCURRENT_RUNS: '2',
  SLIPWAY_MAX_QUEUED_RUNS: '2',
});
t.teardown(() => gw.close());

const sh = (script: string, extra: Record<string, unknown> = {}) => gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['sh', '-c', script], ...extra });

/** The safe outcome includes a gateway that still answers normally: the next run's result. */
async function nextRun(g: Gateway = gw): Promise<unknown> {
  return (await g.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['echo', 'next'] })).body;
}
const NEXT_OK = { status: 'succeeded', stdout: 'next\n' };

t.test('fork bomb: the pids limit holds; the run times out or fails', async (t) => {
  const res = await sh(':(){ :|:& };:', { pids_limit: 64, timeout: 5 });
  t.equal(res.status, 200);
  t.match(res.body.status, /^(timed_out|failed)$/);
  t.ok(await waitUntilGone(res.body.container_id), 'container gone');
  t.match(await nextRun(), NEXT_OK, 'the next run works');
});

t.test('gigabytes of stdout, while someone follows the log: capped, reported, memory bounded', async (t) => {
  const start = await sh('yes flood-flood-flood-flood', { wait: false, timeout: 60 });
  const follower = fetch(`${gw.url}/v1/runs/${start.body.run_id}/logs`).then((r) => r.text());
  const final = await pollUntilFinal(gw, start.body.run_id);
  t.match(final, { status: 'failed', stdout_truncated: true, error_message: /more than 8388608 bytes of output/ });
  t.equal(final.stdout.length, 1024 * 1024, 'kept only the per-stream cap');
  t.match(await follower, /event: end/, 'the follower saw the end');
  t.match(await nextRun(), NEXT_OK, 'the next run works');
});

t.test('disk fill: ENOSPC inside the small /tmp; nothing else writable; the next run starts clean', async (t) => {
  const res = await sh('dd if=/dev/zero of=/tmp/fill bs=1M count=200; echo "exit $?"; touch /root-file || echo "root read-only"');
  t.match(res.body.stderr, /No space left on device/);
  t.match(res.body.stdout, /exit 1\nroot read-only\n/);
  const next = await sh('ls -A /tmp | wc -l');
  t.equal(next.body.stdout.trim(), '0', 'a new run gets an empty /tmp');
});

t.test('memory blow-up: OOM kill reported as oom_killed', async (t) => {
  const res = await gw.request('POST', '/v1/containers/run', { image: PYTHON_IMAGE, command: ['python3', '-c', "x = b'y' * (512 * 1024 * 1024)"], memory_limit: '48m' });
  t.match(res.body, { status: 'oom_killed', exit_code: 137 });
  t.match(await nextRun(), NEXT_OK, 'the next run works');
});

t.test('infinite loop ignoring SIGTERM: SIGKILL after the grace, timed_out, container gone', async (t) => {
  const res = await sh('trap "" TERM; while :; do :; done', { timeout: 1 });
  t.match(res.body, { status: 'timed_out', exit_code: 137 });
  t.ok(await waitUntilGone(res.body.container_id));
  t.match(await nextRun(), NEXT_OK, 'the next run works');
});

t.test('a burst of requests: bounded concurrency and queue, 429 with Retry-After beyond', async (t) => {
  const burst = await Promise.all(Array.from({ length: 10 }, () => sh('sleep 2', { wait: false })));
  const statuses = burst.map((r) => r.status);
  t.equal(statuses.filter((s) => s === 202).length, 4, 'two run and two queue');
  t.equal(statuses.filter((s) => s === 429).length, 6, 'the rest are refused');
  t.ok(burst.filter((r) => r.status === 429).every((r) => Number(r.headers.get('retry-after')) > 0));
  for (const r of burst.filter((b) => b.status === 202)) t.match(await pollUntilFinal(gw, r.body.run_id), { status: 'succeeded' });
  t.match(await nextRun(), NEXT_OK, 'the next run works');
});

t.test('a huge request body: 413 before parsing', async (t) => {
  const res = await gw.request('POST', '/v1/payloads/run', { language: 'sh', payload: 'x'.repeat(1024 * 1024) });
  t.equal(res.status, 413);
  t.match(await nextRun(), NEXT_OK, 'the next run works');
});

t.test('slow clients: a connection that never finishes its headers is closed', async (t) => {
  const { port } = new URL(gw.url);
  const closedAfter = await new Promise<number>((resolve) => {
    const started = Date.now();
    const socket = connect(Number(port), '127.0.0.1', () => socket.write('POST /v1/containers/run HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '));
    const trickle = setInterval(() => socket.write('a'), 500);
    socket.on('close', () => {
      clearInterval(trickle);
      resolve(Date.now() - started);
    });
    socket.on('error', () => {});
  });
  t.ok(closedAfter < 6_000, `closed after ${closedAfter} ms (headers timeout 2 s)`);
  t.match(await nextRun(), NEXT_OK, 'the next run works');
});

t.test('hostile file names and image names: 400 naming the field, nothing created', async (t) => {
  for (const path of ['../x', '/etc/passwd', 'a\u0000b']) {
    const res = await gw.request('POST', '/v1/payloads/run', { language: 'sh', files: [{ path, content: 'x' }] });
    t.match(res, { status: 400, body: { error: { field: 'files[0].path' } } }, JSON.stringify(path));
  }
  for (const image of ['busybox;id', 'busybox$(id)', '--privileged', 'a b']) {
    const res = await gw.request('POST', '/v1/containers/run', { image, command: ['true'] });
    t.match(res, { status: 400, body: { error: { field: 'image' } } }, image);
  }
});

t.test('hostile build arguments and refs are refused before any clone or build', async (t) => {
  const base = { repo_url: 'https://example.com/x.git' };
  const cases: [Record<string, unknown>, string][] = [
    [{ build_args: { 'A;rm -rf /': '1' } }, 'build_args'],
    [{ build_args: { 'A B': '1' } }, 'build_args'],
    [{ build_args: { OK: 'x'.repeat(64 * 1024) } }, 'build_args.OK'],
    [{ ref: '--upload-pack=touch /tmp/pwned' }, 'ref'],
    [{ ref: 'main; id' }, 'ref'],
    [{ target: 'a b' }, 'target'],
    [{ context_path: '../../etc' }, 'context_path'],
  ];
  for (const [extra, field] of cases) {
    const res = await gw.request('POST', '/v1/repos/run', { ...base, ...extra });
    t.equal(res.status, 400, JSON.stringify(extra).slice(0, 80));
    t.ok(String(res.body.error?.field).startsWith(field), `names ${field} (${res.body.error?.field})`);
  }
  t.match(await nextRun(), NEXT_OK, 'the next run works');
});

t.test('forbidden host resources never reach the daemon', async (t) => {
  const attempts: Record<string, unknown>[] = [
    { privileged: true },
    { network_mode: 'host' },
    { pid_mode: 'host' },
    { devices: ['/dev/mem'] },
    { binds: ['/var/run/docker.sock:/var/run/docker.sock'] },
    { volumes: { '/etc': {} } },
    { cap_add: ['SYS_ADMIN'] },
    { security_opt: ['seccomp=unconfined'] },
  ];
  for (const extra of attempts) {
    const res = await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['true'], ...extra });
    t.equal(res.status, 400, JSON.stringify(extra));
  }
  t.match(await nextRun(), NEXT_OK, 'the next run works');
});

t.test('forged Origin or Host on /mcp: 403', async (t) => {
  const origin = await rawRequest(`${gw.url}/mcp`, { method: 'POST', headers: { origin: 'https://evil.example' }, body: INITIALIZE });
  t.equal(origin.status, 403);
  const host = await rawRequest(`${gw.url}/mcp`, { method: 'POST', headers: { host: 'evil.example' }, body: INITIALIZE });
  t.equal(host.status, 403);
});

t.test('the engine goes away: clear 503s and readyz failing; it comes back: everything recovers', async (t) => {
  const proxy = await startEngineProxy();
  t.teardown(() => proxy.close());
  const g = await startGateway({ DOCKER_HOST: proxy.dockerHost });
  t.teardown(() => g.close());
  t.equal((await g.request('GET', '/readyz')).status, 200);
  await proxy.down();
  const ready = await g.request('GET', '/readyz');
  t.equal(ready.status, 503);
  const run = await g.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['true'] });
  t.match(run, { status: 503, body: { error: { code: 'SLIPWAY_ERR_ENGINE_UNAVAILABLE' } } });
  t.equal((await g.request('GET', '/healthz')).status, 200, 'the process itself is alive');
  await proxy.up();
  t.equal((await g.request('GET', '/readyz')).status, 200, 'ready again');
  t.match(await nextRun(g), NEXT_OK, 'the next run works');
});
