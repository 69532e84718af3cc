// A repository run (lib/run-kinds/repo-run.ts) against the fake runtime and a scripted
// builder: its build is one typed part of the run record, and every answer (the waited
// result, the record, the run list, a replay) shows the same public build fields.
import t from 'tap';
import type { RepoImageResult } from '../../lib/repo-build.js';
import { FakeRuntime } from '../fixtures/fake-runtime.js';
import { fakeSlipway } from '../fixtures/fake-slipway.js';

const REPO = 'https://git.test/app.git';
const ENV = { SLIPWAY_GIT_ALLOWED_HOSTS: 'git.test' };
const BUILT: RepoImageResult = { image_tag: 'slipway-build:abc', image_id: 'sha256:built', commit_sha: 'c0ffee', build_time: 1.5, cache_hit: false, build_log: 'Step 1/1 : FROM busybox\n' };
const BUILD_FIELDS = { commit_sha: 'c0ffee', image_id: 'sha256:built', image_tag: 'slipway-build:abc', build_time: 1.5, cache_hit: false, build_log: 'Step 1/1 : FROM busybox\n' };

function building(result: RepoImageResult): FakeRuntime {
  return new FakeRuntime({ builder: { repoImage: async () => result, prune: async () => ({ removed: [], inUse: [] }) } });
}

t.test('a repository run answers its result with the build fields, and its record, the run list and a replay say the same', async (t) => {
  const runtime = building(BUILT);
  let image;
  runtime.behaviour = (spec) => ((image = spec.image), { exitCode: 0, stdout: 'built and ran\n' });
  const { slipway } = fakeSlipway(t, { runtime, env: ENV });
  const result = await slipway.runRepo({ repo_url: REPO, idempotency_key: 'k' });
  t.equal(image, BUILT.image_tag, 'the run uses the image the build made');
  t.match(result, { status: 'succeeded', stdout: 'built and ran\n', ...BUILD_FIELDS });
  t.notOk('build_failed' in result, 'nothing internal leaks into the answer');
  t.match(slipway.getRun(result.run_id), { kind: 'repo', status: 'succeeded', ...BUILD_FIELDS });
  t.match(slipway.listRuns({ kind: 'repo' }).runs, [{ run_id: result.run_id, ...BUILD_FIELDS }]);
  t.strictSame(await slipway.runRepo({ repo_url: REPO, idempotency_key: 'k' }), result, 'a replay answers the very same result');
});

t.test('a failed build ends the run failed without a container, its log as stderr and its build on the record', async (t) => {
  const runtime = building({ ...BUILT, image_id: null, build_failed: { reason: 'failed', message: 'step 1 exited 1', log: 'boom\n' } });
  const { slipway } = fakeSlipway(t, { runtime, env: ENV });
  const result = await slipway.runRepo({ repo_url: REPO });
  t.match(result, { status: 'failed', success: false, container_id: null, stderr: 'boom\n', error_message: 'build failed: step 1 exited 1', ...BUILD_FIELDS, image_id: null });
  t.notOk(runtime.calls.some((c) => c.startsWith('run ')), 'nothing ran');
  t.match(slipway.getRun(result.run_id), { status: 'failed', ...BUILD_FIELDS, image_id: null });
});

t.test('image and payload runs carry no build fields', async (t) => {
  const runtime = new FakeRuntime();
  runtime.images.set('busybox:latest', { id: 'sha256:busybox', digest: null, labels: {} });
  runtime.behaviour = () => ({ exitCode: 0 });
  const { slipway } = fakeSlipway(t, { runtime });
  const result = await slipway.runImage({ image: 'busybox:latest', command: ['true'] });
  t.notOk('commit_sha' in result);
  t.notOk('commit_sha' in slipway.getRun(result.run_id));
});
