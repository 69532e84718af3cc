// Clones that do not trust the repository's shape (issue 9, SECURITY.md): a repository
// that inflates far past its size, and one of more files than a clone may write, both
// against a gateway in its own process, whose memory, descriptors and output are read
// from outside while it works. Each attack is refused with the catalogue's error,
// recorded in the run, logged once, leaves no clone directory, and the next normal
// repository run is served.
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAttackRepos, FILES_OK, INFLATE_ONE_BYTES } from '../fixtures/attack-repos.js';
import { TEST_INSTANCE } from '../fixtures/docker.js';
import { spawnGateway } from '../fixtures/gateway-process.js';
import { pruneTestBuilds, startRepoFixture } from '../fixtures/repo-builds.js';
import { pollUntilFinal } from '../fixtures/runs.js';

const MIB = 1024 * 1024;
const OBJECT_MAX = 16 * MIB;
const MAX_FILES = 5000;
const MAX_OPEN = 16;
/** Descriptors a gateway may open beside a clone's own: sockets to the engine, the git server, callers. */
const FD_MARGIN = 24;

const INSTANCE = `${TEST_INSTANCE}-clone-attacks`;
const fx = await startRepoFixture();
await createAttackRepos(fx.repos.root);
const dataDir = await mkdtemp(join(tmpdir(), 'slipway-clone-attacks-'));
const gw = await spawnGateway({
  SLIPWAY_INSTANCE: INSTANCE,
  SLIPWAY_DATA_DIR: dataDir,
  SLIPWAY_RATE_LIMIT: '0',
  SLIPWAY_GIT_ALLOWED_HOSTS: fx.server.hostPort,
  SLIPWAY_GIT_WORK_DIR: fx.workDir,
  SLIPWAY_GIT_OBJECT_MAX_BYTES: String(OBJECT_MAX),
  SLIPWAY_GIT_MAX_FILES: String(MAX_FILES),
  SLIPWAY_GIT_MAX_OPEN_FILES: String(MAX_OPEN),
  SLIPWAY_BUILD_MEMORY_BYTES: String(256 * MIB),
});
t.teardown(async () => {
  await gw.kill('SIGTERM');
  await pruneTestBuilds(INSTANCE);
  await fx.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function request(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(gw.url + path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : null });
  return { status: res.status, body: await res.json() };
}
const api = { request };

/**
 * Starts a repository run and follows it to its end, reading `sample` (from /proc, outside
 * the gateway) every few milliseconds and asking /healthz all along: the highest sample,
 * and whether every health check was answered.
 */
async function followRun(repoUrl: string, sample: () => number): Promise<{ final: any; peak: number; healthAnswers: number[] }> {
  let peak = sample();
  let done = false;
  const sampler = (async () => {
    while (!done) {
      peak = Math.max(peak, sample());
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const healthAnswers: number[] = [];
  const health = (async () => {
    while (!done) healthAnswers.push((await fetch(`${gw.url}/healthz`)).status);
  })();
  try {
    const start = await request('POST', '/v1/repos/run', { repo_url: repoUrl, wait: false });
    if (start.status !== 202) throw new Error(`the run did not start: ${JSON.stringify(start)}`);
    return { final: await pollUntilFinal(api, start.body.run_id, 120_000), peak, healthAnswers };
  } finally {
    done = true;
    await Promise.all([sampler, health]);
  }
}

/** Baseline of a /proc reading: the highest of a few samples with the gateway idle. */
async function baseline(sample: () => number): Promise<number> {
  let high = 0;
  for (let i = 0; i < 10; i++) {
    high = Math.max(high, sample());
    await new Promise((r) => setTimeout(r, 20));
  }
  return high;
}

/** The log since `from`: lines about the refusal, and lines of stack traces. */
function logSince(from: number): { refusals: string[]; stackLines: string[] } {
  const lines = gw.output.slice(from);
  return { refusals: lines.filter((l) => /repository too large/.test(l)), stackLines: lines.filter((l) => /^\s+at |\\n\s+at /.test(l)) };
}

async function normalRunIsServed(t: Tap): Promise<void> {
  const next = await request('POST', '/v1/repos/run', { repo_url: fx.url('app.git') });
  t.match(next, { status: 200, body: { status: 'succeeded', stdout: 'c4' } }, 'the next repository run is served');
}
type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

t.test('a repository whose one blob inflates to 256 MiB is refused while it arrives; the gateway does not grow by the blob', async (t) => {
  await normalRunIsServed(t); // warm: the gateway has built and run once before it is measured
  const rssBefore = await baseline(gw.rss);
  const logFrom = gw.output.length;
  const { final, peak, healthAnswers } = await followRun(fx.url('inflate-one.git'), gw.rss);
  t.match(final, { status: 'error', error_message: new RegExp(`repository too large: .*inflates to ${INFLATE_ONE_BYTES} bytes, more than ${OBJECT_MAX} \\(SLIPWAY_GIT_OBJECT_MAX_BYTES\\)`) });
  t.ok(peak - rssBefore < INFLATE_ONE_BYTES / 4, `resident memory grew by ${Math.round((peak - rssBefore) / MIB)} MiB, well under the blob's ${INFLATE_ONE_BYTES / MIB} MiB`);
  t.ok(healthAnswers.length > 0 && healthAnswers.every((s) => s === 200), 'the gateway answered /healthz throughout');
  const log = logSince(logFrom);
  t.equal(log.refusals.length, 1, 'the refusal is logged once');
  t.same(log.stackLines, [], 'no stack traces');
  t.same(await fx.clonesLeft(), [], 'the clone directory is gone');
  await normalRunIsServed(t);
});

t.test('a repository of 20,000 files is refused before a file is written; descriptors stay bounded; one log line', async (t) => {
  const fdsBefore = await baseline(gw.openFds);
  const logFrom = gw.output.length;
  const { final, peak, healthAnswers } = await followRun(fx.url('many-files.git'), gw.openFds);
  t.match(final, { status: 'error', error_message: new RegExp(`repository too large: more than ${MAX_FILES} files and directories \\(SLIPWAY_GIT_MAX_FILES\\)`) });
  t.ok(peak <= fdsBefore + MAX_OPEN + FD_MARGIN, `at most ${peak} descriptors open (${fdsBefore} before, bound ${MAX_OPEN})`);
  t.ok(healthAnswers.length > 0 && healthAnswers.every((s) => s === 200), 'the gateway answered /healthz throughout');
  const log = logSince(logFrom);
  t.equal(log.refusals.length, 1, 'the refusal is logged once');
  t.same(log.stackLines, [], 'no stack traces');
  t.same(await fx.clonesLeft(), [], 'the clone directory is gone');
  await normalRunIsServed(t);
});

t.test(`a repository of ${FILES_OK} files, under the bound, is written with at most the bound of descriptors open, and runs`, async (t) => {
  const fdsBefore = await baseline(gw.openFds);
  const { final, peak } = await followRun(fx.url('files-ok.git'), gw.openFds);
  t.match(final, { status: 'succeeded', stdout: `${FILES_OK}\n` });
  t.ok(peak <= fdsBefore + MAX_OPEN + FD_MARGIN, `at most ${peak} descriptors open (${fdsBefore} before, bound ${MAX_OPEN})`);
  t.same(await fx.clonesLeft(), [], 'the clone directory is gone');
});
