// Builds as an attacker would use them, against the real engine and the local git
// server: a Dockerfile that fetches from the gateway host's loopback, reads images
// outside the caller's allow-list, tests its step's isolation from inside, fills the
// disk, and a gateway killed mid-build. Each attack ends in its safe outcome, and the
// gateway then serves a normal build.
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker, TEST_INSTANCE } from '../fixtures/docker.js';
import { startGateway, type Gateway } from '../fixtures/gateway.js';
import { spawnGateway } from '../fixtures/gateway-process.js';
import { addRepo } from '../fixtures/git-repos.js';
import { BUSYBOX_IMAGE, PYTHON_IMAGE } from '../fixtures/images.js';
import { imageLabels, pruneTestBuilds, startRepoFixture } from '../fixtures/repo-builds.js';
import { bearer, writeTokensFile } from '../fixtures/tokens.js';

const fx = await startRepoFixture();
const SECRET = `loopback-only-secret-${process.pid}`;
let secretRequests = 0;
const secretServer = createServer((_req, res) => {
  secretRequests++;
  res.end(SECRET);
});
await new Promise<void>((resolve) => secretServer.listen(0, '127.0.0.1', resolve));
const secretUrl = `http://127.0.0.1:${(secretServer.address() as AddressInfo).port}/secret`;

const TOKEN = 'build-attacks-token-0123456789';
const OPEN_TOKEN = 'build-attacks-any-image-0123456789';
const tokensFile = await writeTokensFile([
  { name: 'any-image', token: OPEN_TOKEN, scopes: ['run', 'build', 'read'] },
  { name: 'busybox-only', token: TOKEN, scopes: ['run', 'build', 'read'], policy: { image_allow: ['slipway-test/busybox:*', 'slipway-test/onbuild-*'] } },
]);
const gateways: Gateway[] = [];
/** A gateway for these tests: the fixture's git server allowed, tokens in use, settings as given. */
async function gateway(env: Record<string, string> = {}): Promise<Gateway> {
  const gw = await startGateway({
    SLIPWAY_INSTANCE: `${TEST_INSTANCE}-build-attacks-${gateways.length}`,
    SLIPWAY_GIT_ALLOWED_HOSTS: fx.server.hostPort,
    SLIPWAY_GIT_WORK_DIR: fx.workDir,
    SLIPWAY_TOKENS_FILE: tokensFile,
    SLIPWAY_BUILD_MEMORY_BYTES: String(128 * 1024 * 1024),
    ...env,
  });
  gateways.push(gw);
  return gw;
}
t.teardown(async () => {
  for (const gw of gateways) {
    await gw.close();
    await pruneTestBuilds(gw.instance);
  }
  await new Promise((resolve) => secretServer.close(resolve));
  await rm(join(tokensFile, '..'), { recursive: true, force: true });
  await fx.close();
});

let repoCount = 0;
/** A repository holding this Dockerfile; returns its URL. */
async function repoWith(dockerfile: string, files: Record<string, string> = {}): Promise<string> {
  const name = `attack-${++repoCount}`;
  await addRepo(fx.repos.root, name, { Dockerfile: dockerfile, ...files });
  return fx.url(`${name}.git`);
}

const build = (gw: Gateway, repoUrl: string, extra: Record<string, unknown> = {}) => gw.request('POST', '/v1/repos/run', { repo_url: repoUrl, ...extra }, bearer(TOKEN));

/** The normal request after an attack: a small build runs and answers. */
const NORMAL = `FROM ${BUSYBOX_IMAGE}\nRUN echo built > /ok.txt\nCMD ["cat", "/ok.txt"]\n`;
let normalRepo: string | undefined;
async function normalBuildServed(t: { match: (...args: any[]) => boolean }, gw: Gateway): Promise<void> {
  normalRepo ??= await repoWith(NORMAL);
  const res = await build(gw, normalRepo);
  t.match(res, { status: 200, body: { status: 'succeeded', stdout: 'built\n' } }, 'a normal build is still served');
}

t.test('ADD of a loopback URL is refused in every spelling; the secret never reaches the build', async (t) => {
  const gw = await gateway();
  const dockerfiles = {
    plain: `FROM ${BUSYBOX_IMAGE}\nADD ${secretUrl} /x\nRUN cat /x\n`,
    'upper-case scheme': `FROM ${BUSYBOX_IMAGE}\nADD ${secretUrl.replace('http', 'HTTP')} /x\nRUN cat /x\n`,
    'ARG substitution': `FROM ${BUSYBOX_IMAGE}\nARG U=${secretUrl}\nADD \${U} /x\nRUN cat /x\n`,
    'ENV substitution': `FROM ${BUSYBOX_IMAGE}\nENV U=${secretUrl.slice(0, 10)}\nADD $U${secretUrl.slice(10)} /x\nRUN cat /x\n`,
    'build argument': `FROM ${BUSYBOX_IMAGE}\nARG U\nADD \${U:-/none} /x\nRUN cat /x\n`,
  };
  for (const [how, dockerfile] of Object.entries(dockerfiles)) {
    const res = await build(gw, await repoWith(dockerfile), how === 'build argument' ? { build_args: { U: secretUrl } } : {});
    t.match(res, { status: 200, body: { status: 'failed', exit_code: null, error_message: /URL|network/ } }, `${how}: a failed build`);
    t.notMatch(JSON.stringify(res.body), SECRET, `${how}: the secret is not in the result`);
  }
  t.equal(secretRequests, 0, 'the loopback service was never asked');
  await normalBuildServed(t, gw);
});

t.test('a base image with ONBUILD triggers is refused', async (t) => {
  const gw = await gateway();
  const holder = await docker.createContainer({ Image: BUSYBOX_IMAGE, Cmd: ['true'], Labels: { 'io.slipway.managed': 'true', 'io.slipway.instance': gw.instance } });
  const tag = `slipway-test/onbuild-${process.pid}`;
  await holder.commit({ repo: tag, tag: '1', changes: [`ONBUILD ADD ${secretUrl} /x`, 'LABEL io.slipway.managed=true', `LABEL io.slipway.instance=${gw.instance}`] });
  await holder.remove({ force: true });
  t.teardown(() => docker.getImage(`${tag}:1`).remove().catch(() => undefined));
  const res = await build(gw, await repoWith(`FROM ${tag}:1\nRUN cat /x\n`));
  t.match(res, { status: 200, body: { status: 'failed', error_message: /ONBUILD/ } });
  t.equal(secretRequests, 0);
  await normalBuildServed(t, gw);
});

t.test('FROM and COPY --from an image outside the caller\'s allow-list: 403, nothing built', async (t) => {
  const gw = await gateway();
  const from = await build(gw, await repoWith(`FROM ${PYTHON_IMAGE}\nRUN echo should-not-run\n`));
  t.match(from, { status: 403, body: { error: { code: 'SLIPWAY_ERR_POLICY_DENIED', field: 'dockerfile_path', message: new RegExp(PYTHON_IMAGE) } } });
  const viaArg = await build(gw, await repoWith(`ARG BASE=${BUSYBOX_IMAGE}\nFROM \${BASE}\nRUN true\n`), { build_args: { BASE: PYTHON_IMAGE } });
  t.match(viaArg, { status: 403, body: { error: { code: 'SLIPWAY_ERR_POLICY_DENIED' } } }, 'after ARG substitution too');
  const copy = await build(gw, await repoWith(`FROM ${BUSYBOX_IMAGE}\nCOPY --from=${PYTHON_IMAGE} /etc/passwd /stolen\n`));
  t.match(copy, { status: 403, body: { error: { code: 'SLIPWAY_ERR_POLICY_DENIED', field: 'dockerfile_path' } } });
  const built = await docker.listImages({ filters: { label: [`io.slipway.instance=${gw.instance}`] } });
  t.same(built, [], 'no image was built');
  // Another caller may build FROM that image; its cached build is not this caller's way round the list.
  const shared = await repoWith(`FROM ${PYTHON_IMAGE}\nCMD ["echo", "from python"]\n`);
  const other = await gw.request('POST', '/v1/repos/run', { repo_url: shared }, bearer(OPEN_TOKEN));
  t.match(other, { status: 200, body: { status: 'succeeded', stdout: 'from python\n' } }, 'a caller allowed any image builds it');
  t.match(await build(gw, shared), { status: 403, body: { error: { code: 'SLIPWAY_ERR_POLICY_DENIED', field: 'dockerfile_path' } } }, 'the cached image is refused all the same');
  // What the list allows still works: a copy from an earlier stage and from an allowed image.
  const stages = await repoWith(
    `FROM ${BUSYBOX_IMAGE} AS first\nRUN mkdir -p /out && echo staged > /out/s\nFROM ${BUSYBOX_IMAGE}\nCOPY --from=first /out /copied/\nCOPY --from=${BUSYBOX_IMAGE} /bin/busybox /tools/bb\nCMD ["sh", "-c", "cat /copied/s && ls /tools"]\n`,
  );
  t.match(await build(gw, stages), { status: 200, body: { status: 'succeeded', stdout: 'staged\nbb\n' } }, 'COPY --from a stage and an allowed image');
  await normalBuildServed(t, gw);
});

t.test('a RUN step is as confined as a run: no capabilities, no privilege gain, pids and memory bounded', async (t) => {
  const gw = await gateway({ SLIPWAY_BUILD_PIDS_LIMIT: '32' });
  const probe = [
    'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status',
    'echo pids.max=$(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max)',
    'echo memory=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)',
    // Try for 100 processes in a subshell (ash gives up at the first failed fork); the
    // pids limit lets only some start. Counted with a glob: counting must not fork.
    '(for i in $(seq 1 100); do sleep 5 & done) 2>/dev/null; set -- /proc/[0-9]*; echo procs=$#',
  ].join('; ');
  const res = await build(gw, await repoWith(`FROM ${BUSYBOX_IMAGE}\nRUN ${probe}\n`));
  t.match(res, { status: 200, body: { status: 'succeeded' } });
  const log: string = res.body.build_log;
  t.match(log, /^CapEff:\s+0000000000000000$/m, 'every capability dropped');
  t.match(log, /^NoNewPrivs:\s+1$/m, 'no-new-privileges');
  t.match(log, /^pids\.max=32$/m, 'the pids limit');
  t.match(log, /^memory=134217728$/m, 'the memory limit');
  const procs = Number(/^procs=(\d+)$/m.exec(log)?.[1]);
  t.ok(procs > 0 && procs <= 32, `at most 32 processes ran at once (saw ${procs})`);
  await normalBuildServed(t, gw);
});

t.test('a step writing more than the layer limit fails the build and keeps nothing of it', async (t) => {
  const gw = await gateway({ SLIPWAY_BUILD_MAX_LAYER_BYTES: String(8 * 1024 * 1024) });
  const res = await build(gw, await repoWith(`FROM ${BUSYBOX_IMAGE}\nRUN dd if=/dev/zero of=/fill bs=1048576 count=40 && sleep 2\n`));
  t.match(res, { status: 200, body: { status: 'failed', exit_code: null, error_message: /SLIPWAY_BUILD_MAX_LAYER_BYTES/ } });
  const images = await docker.listImages({ filters: { label: [`io.slipway.instance=${gw.instance}`] } });
  t.same(images, [], 'no layer of the step was kept');
  await normalBuildServed(t, gw);
});

t.test('a caller\'s build cache stays under its budget: the oldest images are pruned', async (t) => {
  const gw = await gateway({ SLIPWAY_BUILD_CACHE_MAX_BYTES: String(3 * 1024 * 1024) });
  const layer = (n: string) => `FROM ${BUSYBOX_IMAGE}\nRUN dd if=/dev/zero of=/fill-${n} bs=1048576 count=2\n`;
  const first = await build(gw, await repoWith(layer('a')));
  t.match(first.body, { status: 'succeeded', image_tag: /^slipway-build\// });
  t.ok(await docker.getImage(first.body.image_tag).inspect(), 'the first build is cached');
  const second = await build(gw, await repoWith(layer('b')));
  t.match(second.body, { status: 'succeeded' });
  await t.rejects(docker.getImage(first.body.image_tag).inspect(), { statusCode: 404, message: /no such image/i }, 'the older build went to make room');
  t.match(await imageLabels(second.body.image_tag), { 'io.slipway.owner': 'busybox-only' }, 'the newer one stays, owned by the caller');
  await normalBuildServed(t, gw);
});

t.test('kill -9 mid-build: everything the build made is labelled, and the restarted gateway removes the step container', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'slipway-test-data-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const instance = `${TEST_INSTANCE}-build-kill`;
  const env = { SLIPWAY_INSTANCE: instance, SLIPWAY_DATA_DIR: dataDir, SLIPWAY_GIT_ALLOWED_HOSTS: fx.server.hostPort, SLIPWAY_GIT_WORK_DIR: fx.workDir };
  const marker = `slipway-kill-marker-${process.pid}`;
  const repo = await repoWith(`FROM ${BUSYBOX_IMAGE}\nRUN echo ${marker}-one > /one\nRUN echo ${marker}-sleeping && sleep 300\n`);
  t.teardown(() => pruneTestBuilds(instance));
  const first = await spawnGateway(env);
  const start = await fetch(`${first.url}/v1/repos/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ repo_url: repo, wait: false }) });
  t.equal(start.status, 202);
  const stepContainers = () => docker.listContainers({ all: true }).then((all) => all.filter((c) => c.Command.includes(`${marker}-sleeping`)));
  const deadline = Date.now() + 60_000;
  while ((await stepContainers()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  await first.kill('SIGKILL');

  const left = await stepContainers();
  t.equal(left.length, 1, 'the sleeping step container is there');
  t.match(left[0]!.Labels, { 'io.slipway.managed': 'true', 'io.slipway.instance': instance, 'io.slipway.build': 'step', 'io.slipway.run-id': /.+/ }, 'and labelled');
  const parent = await docker.getImage(left[0]!.Image).inspect();
  t.match(parent.Config.Labels, { 'io.slipway.managed': 'true', 'io.slipway.instance': instance, 'io.slipway.build': 'layer' }, 'the image the first step committed is labelled');

  const second = await spawnGateway(env);
  t.teardown(() => second.kill('SIGTERM'));
  const gone = Date.now() + 30_000;
  while ((await stepContainers()).length > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 200));
  t.same(await stepContainers(), [], 'the restarted gateway removed the step container');
  const next = await fetch(`${second.url}/v1/containers/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image: BUSYBOX_IMAGE, command: ['echo', 'next'] }) });
  t.match(await next.json(), { status: 'succeeded', stdout: 'next\n' }, 'and serves the next request');
});
