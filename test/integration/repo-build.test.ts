// prepareRepoImage against the real engine and the local git server: builds with
// arguments, refs, contexts and targets, the cache, failures and limits, and what the
// engine holds afterwards (no build containers, no stray images, no clone directories).
import t from 'tap';
import { pino } from 'pino';
import type { RunEvent } from '../../lib/run-events.js';
import { pruneBuildImages } from '../../lib/docker/build-image-cache.js';
import { prepareRepoImage } from '../../lib/docker/repo-image.js';
import type { RepoImageInput, RepoImageResult } from '../../lib/repo-build.js';
import { docker } from '../fixtures/docker.js';
import { FAIL_MARKER, SLOW_MARKER } from '../fixtures/git-repos.js';
import { buildContainersLeft, imageLabels, REPO_TEST_INSTANCE, runImage, startRepoFixture, waitForNoBuildContainers } from '../fixtures/repo-builds.js';
import { LABEL_CACHE_KEY, LABEL_COMMIT, LABEL_INSTANCE, LABEL_KIND, LABEL_MANAGED, LABEL_REPO } from '../../lib/labels.js';

const fx = await startRepoFixture();
const { c1, c2, c4, feature } = fx.repos.commits;
const silent = pino({ level: 'silent' });

t.teardown(async () => {
  // Every image built here carries the test instance label; the suite's after-hook fails on any left.
  await pruneBuildImages(fx.deps().docker, { instance: REPO_TEST_INSTANCE, retentionSeconds: 0, log: silent });
  await fx.close();
});

type Deps = Parameters<typeof fx.deps>[0];

/** prepareRepoImage with the fixture's settings; collects the events and checks no clone is left. */
async function prepare(input: Partial<RepoImageInput>, deps: Deps = {}, signal?: AbortSignal): Promise<RepoImageResult & { events: RunEvent[]; lines: string[] }> {
  const events: RunEvent[] = [];
  try {
    const result = await prepareRepoImage(fx.deps(deps), { repo_url: fx.url('app.git'), ...input }, { signal, onEvent: (e) => events.push(e) });
    return { ...result, events, lines: events.flatMap((e) => (e.type === 'build' ? [e.line] : [])) };
  } finally {
    const left = await fx.clonesLeft();
    if (left.length > 0) throw new Error(`clone directories left behind: ${left.join(', ')}`);
  }
}

t.test('builds the default branch with build arguments, honouring .dockerignore', async (t) => {
  const r = await prepare({ build_args: { GREETING: 'hello there', EXTRA: 'x=1' } });
  t.match(r, { cache_hit: false, commit_sha: c4, image_id: /^sha256:[0-9a-f]{64}$/, image_tag: /^slipway-build\/127.0.0.1-app:[0-9a-f]{32}$/ });
  t.notOk(r.build_failed);
  t.type(r.build_time, 'number');
  t.same(r.events[0], { type: 'status', status: 'building' });
  t.ok(r.lines.some((l) => /^Step 5\/\d+ : RUN echo "slipway-fixture-step/.test(l)), 'the steps arrive as build events');
  t.match(r.build_log, /Successfully tagged/);
  const [said, listed] = (await runImage(r.image_tag, ['cat', '/report.txt'])).trim().split('\n');
  t.equal(said, 'slipway-fixture-step greeting=hello there extra=x=1 version=c4', 'the RUN step saw the arguments');
  const listing = listed!.split(' ');
  t.ok(listing.includes('keep.tmp'), 'an exception brings a file back');
  for (const ignored of ['secret.txt', 'logs', 'scratch.tmp']) t.notOk(listing.includes(ignored), `${ignored} was not sent`);
  // As with docker build: the daemon reads Dockerfile and .dockerignore, then drops them when .dockerignore names them.
  t.notOk(listing.includes('Dockerfile') || listing.includes('.dockerignore'));

  const info = await docker.getImage(r.image_tag).inspect();
  t.equal(info.Id, r.image_id, 'the engine has the image under the tag');
  t.match(await imageLabels(r.image_tag), {
    [LABEL_MANAGED]: 'true',
    [LABEL_INSTANCE]: REPO_TEST_INSTANCE,
    [LABEL_KIND]: 'repo',
    [LABEL_REPO]: `${fx.server.url}/app`,
    [LABEL_COMMIT]: c4,
    [LABEL_CACHE_KEY]: /^[0-9a-f]{64}$/,
  });
  t.equal((await runImage(r.image_tag)).trim(), 'c4', "the image runs with the Dockerfile's CMD");
});

t.test('the same inputs again: a cache hit, without cloning or building', async (t) => {
  const first = await prepare({ ref: 'feature' });
  const requests = fx.server.requests.length;
  const second = await prepare({ ref: 'feature' });
  t.match(second, { cache_hit: true, image_id: first.image_id, image_tag: first.image_tag, commit_sha: feature });
  t.notOk(fx.server.requests.slice(requests).some((l) => l.startsWith('POST')), 'no pack was fetched: the ref advertisement was enough');
  t.match(second.lines.join('\n'), /Using cached image/);
  t.notOk(second.lines.some((l) => l.startsWith('Step ')), 'nothing was built');
  const byCommit = await prepare({ ref: feature });
  t.match(byCommit, { cache_hit: true, image_id: first.image_id }, 'the same commit named by its SHA');
  const other = await prepare({ ref: 'feature', build_args: { GREETING: 'other' } });
  t.match(other, { cache_hit: false }, 'other build arguments, another image');
  t.not(other.image_tag, first.image_tag);
});

t.test('refs by branch, tag and commit build what they name', async (t) => {
  for (const [ref, version, sha] of [['feature', 'feature', feature], ['v1.0', 'c1', c1], [c2, 'c2', c2]] as const) {
    const r = await prepare({ ref, build_args: { GREETING: 'refs' } });
    t.match(r, { commit_sha: sha, cache_hit: false }, `${ref} is ${sha}`);
    t.equal((await runImage(r.image_tag)).trim(), version, `${ref} built version ${version}`);
  }
  // An abbreviated SHA names its commit only after a clone; the build of the full SHA is then found.
  const short = await prepare({ ref: c2.slice(0, 10), build_args: { GREETING: 'refs' } });
  t.match(short, { commit_sha: c2, cache_hit: true });
  t.ok(short.lines.some((l) => l.startsWith('Checked out ')), 'it cloned to find out');
  await t.rejects(prepare({ ref: 'no-such-ref' }), { code: 'SLIPWAY_ERR_REF_NOT_FOUND', statusCode: 404, field: 'ref' });
  await t.rejects(prepare({ repo_url: fx.url('missing.git') }), { code: 'SLIPWAY_ERR_REPO_NOT_FOUND', statusCode: 404, field: 'repo_url' });
});

t.test('a context subdirectory, a Dockerfile elsewhere in it, a target stage', async (t) => {
  const sub = await prepare({ context_path: 'sub' });
  t.equal((await runImage(sub.image_tag, ['cat', '/report.txt'])).trim(), 'slipway-fixture-sub says hello from sub files: Dockerfile hello.txt link-out nested', 'only sub/ was sent');
  t.equal((await runImage(sub.image_tag, ['readlink', '/sub/link-out'])).trim(), '../../../../../../etc/hostname', 'the link went as a link');
  const alt = await prepare({ context_path: 'sub', dockerfile_path: 'nested/Dockerfile.alt' });
  t.ok(alt.image_id && alt.lines.some((l) => l.endsWith('RUN echo "slipway-fixture-alt"')), 'the Dockerfile named inside the context');
  const staged = await prepare({ dockerfile_path: 'Dockerfile.stages', target: 'tester' });
  t.ok(staged.lines.some((l) => l.endsWith('RUN echo "slipway-fixture-stage tester"')));
  t.notOk(staged.lines.some((l) => l.includes('slipway-fixture-stage final')), 'stages after the target are not built');
});

t.test('the build runs without network and inside its memory and CPU limits', async (t) => {
  const r = await prepare({ context_path: 'probe' }, { build: { memoryBytes: 96 * 1024 * 1024 } });
  t.equal((await runImage(r.image_tag, ['cat', '/report.txt'])).trim(), 'slipway-fixture-probe net=lo mem=100663296', 'only loopback; the memory limit as set');
});

t.test('a failing step: a failed outcome with that step output, and nothing left behind', async (t) => {
  const r = await prepare({ context_path: 'fail' });
  t.match(r, { image_id: null, cache_hit: false, build_failed: { reason: 'failed', message: /returned a non-zero code: 3/ } });
  t.match(r.build_failed!.log, new RegExp(`^Step 3/\\d+ : RUN sleep 1 && echo "${FAIL_MARKER}`));
  // Two streams: their order is not fixed. The builder wraps stderr in colour codes; they are gone.
  t.match(r.build_failed!.log, /^slipway-fixture-fail about to fail$/m, 'the step stdout');
  t.match(r.build_failed!.log, /^oops on stderr$/m, 'the step stderr');
  t.notMatch(r.build_failed!.log, /one is fine/, 'only the failing step');
  t.match(r.build_log, /one is fine[\s\S]*about to fail/);
  t.same(await waitForNoBuildContainers(), [], 'the failed step container is removed');
  // The image step 2 committed is a labelled cache layer: the prune and the leak check find it.
  const committed = /Step 2\/\d+ [^\n]*\n ---> Running in [0-9a-f]+\n(?:[^\n]*\n)*? ---> ([0-9a-f]{12})\nRemoving intermediate container/.exec(r.build_log)?.[1];
  t.ok(committed, 'step 2 ran in this build');
  t.match(await imageLabels(committed!), { 'io.slipway.managed': 'true', 'io.slipway.instance': REPO_TEST_INSTANCE, 'io.slipway.kind': 'repo', 'io.slipway.build': 'layer' }, 'its image is labelled');
  await t.rejects(docker.getImage(r.image_tag).inspect(), { statusCode: 404, message: /no such image/i }, 'no image under the tag');
});

t.test('the build time limit stops the build and removes its container', async (t) => {
  const r = await prepare({ context_path: 'slow' }, { build: { timeoutSeconds: 3 } });
  t.match(r, { image_id: null, build_failed: { reason: 'timed_out', message: /time limit of 3 seconds/ } });
  t.match(r.build_failed!.log, /slipway-fixture-slow sleeping/);
  t.same(await waitForNoBuildContainers(SLOW_MARKER), [], 'the sleeping step container is gone');
});

t.test('a caller abort stops the build, rethrows its reason, and cleans up', async (t) => {
  const controller = new AbortController();
  const reason = new Error('run cancelled');
  const pending = prepare({ context_path: 'slow', build_args: { GREETING: 'abort' } }, {}, controller.signal);
  const deadline = Date.now() + 20_000;
  while ((await buildContainersLeft(SLOW_MARKER)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  controller.abort(reason);
  await t.rejects(pending, reason);
  t.same(await waitForNoBuildContainers(SLOW_MARKER), [], 'the step container is gone');
});

t.test('bad input is refused before anything is fetched or built', async (t) => {
  const requests = fx.server.requests.length;
  await t.rejects(prepare({ context_path: '../outside' }), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'context_path' });
  await t.rejects(prepare({ build_args: { 'BAD-NAME': 'x' } }), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'build_args.BAD-NAME' });
  await t.rejects(prepare({ target: 'a b' }), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'target' });
  await t.rejects(prepare({ repo_url: 'file:///etc' }), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'repo_url' });
  await t.rejects(prepare({ repo_url: 'ssh://git@127.0.0.1/app.git' }), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'repo_url' });
  await t.rejects(prepare({ repo_url: 'ext::sh -c id' }), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'repo_url' });
  await t.rejects(prepare({ repo_url: `http://127.0.0.1:${fx.server.port + 1}/app.git` }), { code: 'SLIPWAY_ERR_POLICY_DENIED', statusCode: 403, field: 'repo_url' });
  await t.rejects(prepare({ repo_url: 'https://169.254.169.254/x' }), { code: 'SLIPWAY_ERR_POLICY_DENIED', field: 'repo_url' });
  await t.rejects(prepare({ repo_url: `https://localhost:${fx.server.port}/app.git` }), { code: 'SLIPWAY_ERR_POLICY_DENIED', field: 'repo_url' });
  t.equal(fx.server.requests.length, requests, 'the git server saw none of them');
});

t.test('a missing Dockerfile, or a context leading out of the clone: 400 naming the field', async (t) => {
  await t.rejects(prepare({ context_path: 'nodockerfile' }), { code: 'SLIPWAY_ERR_INVALID_INPUT', statusCode: 400, field: 'dockerfile_path', message: /no Dockerfile/ });
  await t.rejects(prepare({ dockerfile_path: 'Nope.Dockerfile' }), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'dockerfile_path' });
  await t.rejects(prepare({ context_path: 'escape' }), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'context_path', message: /outside/ });
});

t.test('size limits: the clone and the build context', async (t) => {
  await t.rejects(prepare({ repo_url: fx.url('big.git') }), { code: 'SLIPWAY_ERR_REPO_TOO_LARGE', statusCode: 413, field: 'repo_url' });
  await t.rejects(prepare({ repo_url: fx.url('big.git') }, { git: { cloneMaxBytes: 8 * 1024 * 1024 }, build: { contextMaxBytes: 2 * 1024 * 1024 } }), {
    code: 'SLIPWAY_ERR_REPO_TOO_LARGE',
    field: 'context_path',
  });
});

t.test('pruning removes build images past retention, except those a container uses', async (t) => {
  const r = await prepare({ ref: 'v1.0', build_args: { GREETING: 'prune me' } });
  t.equal(r.cache_hit, false);
  const none = await pruneBuildImages(fx.deps().docker, { instance: REPO_TEST_INSTANCE, retentionSeconds: 3600, log: silent });
  t.notOk(none.removed.includes(r.image_id!), 'young images stay');
  const holder = await docker.createContainer({ Image: r.image_tag, Labels: { [LABEL_MANAGED]: 'true', [LABEL_INSTANCE]: REPO_TEST_INSTANCE } });
  try {
    const held = await pruneBuildImages(fx.deps().docker, { instance: REPO_TEST_INSTANCE, retentionSeconds: 3600, log: silent, now: Date.now() + 7200_000 });
    t.ok(held.inUse.includes(r.image_id!), 'an image a container uses is kept');
    t.ok(await docker.getImage(r.image_tag).inspect());
  } finally {
    await holder.remove({ force: true });
  }
  const pruned = await pruneBuildImages(fx.deps().docker, { instance: REPO_TEST_INSTANCE, retentionSeconds: 0, log: silent });
  t.ok(pruned.removed.includes(r.image_id!));
  await t.rejects(docker.getImage(r.image_tag).inspect(), { statusCode: 404, message: /no such image/i });
  const other = await pruneBuildImages(fx.deps().docker, { instance: `${REPO_TEST_INSTANCE}-nobody`, retentionSeconds: 0, log: silent });
  t.same(other, { removed: [], inUse: [] }, "another instance's images are not touched");
});
