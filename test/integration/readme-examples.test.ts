// The README's curl examples, run as written against a real gateway: only the address
// and the image names are swapped for the test gateway's and the local images.
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startGateway } from '../fixtures/gateway.js';
import { PYTHON_IMAGE } from '../fixtures/images.js';
import { PULL_IMAGE } from '../fixtures/registry.js';
import { pruneTestBuilds, startRepoFixture } from '../fixtures/repo-builds.js';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const fx = await startRepoFixture();
const gw = await startGateway({ SLIPWAY_GIT_ALLOWED_HOSTS: fx.server.hostPort, SLIPWAY_GIT_WORK_DIR: fx.workDir });
t.teardown(async () => {
  await gw.close();
  await pruneTestBuilds(gw.instance);
  await fx.close();
});

/** `<!-- example: name -->` followed by a ```sh block. */
async function examples(): Promise<Map<string, string>> {
  const text = await readFile(README, 'utf8');
  const found = new Map<string, string>();
  for (const m of text.matchAll(/<!-- example: ([a-z-]+) -->\n```sh\n([\s\S]*?)```/g)) found.set(m[1]!, m[2]!);
  return found;
}

function run(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const local = script
    .replaceAll('http://127.0.0.1:8080', gw.url)
    .replaceAll('python:3.12-slim', PYTHON_IMAGE)
    .replaceAll('busybox:1.36', PULL_IMAGE) // the registry's busybox: pulled when missing
    .replaceAll('https://github.com/you/your-app.git', fx.url('app.git'));
  return new Promise((resolve) => {
    execFile('bash', ['-o', 'pipefail', '-c', local], { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const all = await examples();

t.test('the README has the examples this test knows', async (t) => {
  t.same([...all.keys()].sort(), ['async-run', 'bad-input', 'payload-files', 'pull', 'repo-run', 'run-image', 'run-payload', 'stop-and-cancel']);
});

t.test('run-image', async (t) => {
  const res = await run(all.get('run-image')!);
  t.equal(res.code, 0, res.stderr);
  t.match(JSON.parse(res.stdout), { success: true, exit_code: 0, stdout: '4\n', status: 'succeeded' });
});

t.test('run-payload', async (t) => {
  const res = await run(all.get('run-payload')!);
  t.match(JSON.parse(res.stdout), { success: true, stdout: 'hello from a payload\n' });
});

t.test('payload-files', async (t) => {
  const res = await run(all.get('payload-files')!);
  t.equal(res.code, 0, res.stderr);
  t.same(res.stdout.trim().split('\n').map((line) => JSON.parse(line)), [
    { path: 'out/data.bin', encoding: 'base64', content: 'AP8=' },
    { path: 'out/report.txt', encoding: 'utf8', content: '42\n' },
  ]);
});

t.test('async-run', async (t) => {
  const res = await run(all.get('async-run')!);
  t.equal(res.code, 0, res.stderr);
  t.match(res.stdout, /event: stdout\ndata: .*"step 1\\n"[\s\S]*"step 3\\n"[\s\S]*event: end\n/);
  t.match(res.stdout, /"succeeded"\n$/);
});

t.test('stop-and-cancel', async (t) => {
  const res = await run(all.get('stop-and-cancel')!);
  t.equal(res.code, 0, res.stderr);
  const lines = res.stdout.trim().split('\n');
  t.match(lines[0], /^slipway-[0-9a-f-]{36}$/, 'the running container is listed by name');
  t.match(JSON.parse(lines[1]!), { success: true, was_running: true });
  t.equal(lines[2], 'cancelled');
  t.equal(lines[3], 'SLIPWAY_ERR_CONFLICT');
});

t.test('repo-run', async (t) => {
  const res = await run(all.get('repo-run')!);
  t.equal(res.code, 0, res.stderr);
  t.match(JSON.parse(res.stdout), { status: 'succeeded', exit_code: 0, commit_sha: fx.repos.commits.c4, cache_hit: false });
});

t.test('pull', async (t) => {
  const res = await run(all.get('pull')!);
  t.match(JSON.parse(res.stdout), { success: true, image: PULL_IMAGE });
});

t.test('bad-input', async (t) => {
  const res = await run(all.get('bad-input')!);
  t.match(JSON.parse(res.stdout), { error: { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'network_mode' } });
});
