/**
 * From a repository to an image: resolve the ref, look for a cached build, otherwise
 * clone, tar the context and build. The run that follows is the executor's business;
 * this returns the image to run, or a failed build as an outcome.
 *
 * Outcomes a caller should know apart:
 * - resolves with `build_failed` when the Dockerfile fails (`failed`, with the failing
 *   step's output) or the build passes its time limit (`timed_out`);
 * - throws a SlipwayError for bad input (400), policy (403), an unknown repository or
 *   ref (404), limits (413), and remote or engine trouble (502/503/504);
 * - throws the signal's reason when the caller aborts, after everything is cleaned up.
 */
import type { DockerClient } from './docker-client.js';
import { prepareBuildContext, cleanRelativePath } from '../build-context.js';
import { findCachedImage, pruneCallerBuildCache } from './build-image-cache.js';
import { assertImageAllowed } from '../caller.js';
import { buildDockerfile, planAndCheck } from './dockerfile-build.js';
import { SlipwayError } from '../errors.js';
import { buildImageTag, cacheKey, checkBuildArgs, checkTarget, normaliseRepoUrl, type BuildInputs } from '../build-inputs.js';
import { resolveRemoteCommit, withClone } from '../git-clone.js';
import { BoundedLines } from '../image-build.js';
import { buildLabels, LABEL_BUILD, LABEL_BUILD_IMAGES, runLabels } from '../labels.js';
import { DEFAULT_DOCKERFILE, type RepoBuildDeps, type RepoImageInput, type RepoImageOptions, type RepoImageResult } from '../repo-build.js';

/** A build's dependencies, with this backend's engine. */
export interface RepoImageDeps extends RepoBuildDeps {
  docker: DockerClient;
}







const BUILD_LOG_MAX_BYTES = 64 * 1024;

export async function prepareRepoImage(deps: RepoImageDeps, input: RepoImageInput, options: RepoImageOptions = {}): Promise<RepoImageResult> {
  const started = performance.now();
  const seconds = () => Math.round(performance.now() - started) / 1000;
  const buildLog = new BoundedLines(BUILD_LOG_MAX_BYTES);
  const onLine = (line: string) => {
    buildLog.push(line);
    options.onEvent?.({ type: 'build', line });
  };
  // Everything a caller got wrong is refused before any network or engine work.
  const buildArgs = checkBuildArgs(input.build_args);
  const target = checkTarget(input.target);
  const contextPath = cleanRelativePath(input.context_path ?? '.', 'context_path');
  const dockerfilePath = cleanRelativePath(input.dockerfile_path ?? DEFAULT_DOCKERFILE, 'dockerfile_path');
  const request = { repoUrl: input.repo_url, ref: input.ref };
  const cloneOptions = { signal: options.signal, onLine, resolve: deps.resolve };
  options.onEvent?.({ type: 'status', status: 'building' });

  const describe = (commitSha: string) => {
    const inputs: BuildInputs = { instance: deps.instance, repoUrl: input.repo_url, commitSha, contextPath, dockerfilePath, buildArgs, target };
    const key = cacheKey(inputs);
    const tag = buildImageTag(input.repo_url, key);
    return { key, tag, labels: buildLabels(deps.instance, normaliseRepoUrl(input.repo_url), commitSha, key) };
  };

  // The ref advertisement alone names the commit for branches, tags and full SHAs: a
  // cached image is then found without cloning anything.
  const remote = await resolveRemoteCommit(deps.settings.git, request, cloneOptions);
  if (remote.commitSha) {
    const hit = await cached(deps, describe(remote.commitSha), onLine);
    if (hit) return { ...hit, commit_sha: remote.commitSha, build_time: seconds(), build_log: buildLog.text() };
  }

  const cloned = withClone(deps.settings.git, request, cloneOptions, async (checkout) => {
    const build = describe(checkout.commitSha);
    const hit = await cached(deps, build, onLine); // an abbreviated SHA only resolves here
    if (hit) return { ...hit, commit_sha: checkout.commitSha, build_time: seconds(), build_log: buildLog.text() };

    const context = await prepareBuildContext(checkout.dir, { contextPath, dockerfilePath, maxBytes: deps.settings.build.contextMaxBytes });
    const caller = deps.caller ?? { owner: null, imageAllow: [] };
    const checkImage = (ref: string) => assertImageAllowed(ref, caller, 'dockerfile_path');
    const plan = await planAndCheck({ checkImage }, context, buildArgs, target);
    onLine(`Build context: ${context.files.length} entries, ${context.totalBytes} bytes`);
    const outcome =
      plan instanceof Error
        ? { ok: false as const, reason: 'failed' as const, message: plan.message, stepLog: `ERROR: ${plan.message}`, log: '' }
        : await buildDockerfile(
            {
              docker: deps.docker,
              log: deps.log,
              instance: deps.instance,
              owner: caller.owner,
              limits: deps.settings.build,
              runtime: caller.runtime,
              containerLabels: { ...runLabels(deps.instance, deps.runId ?? `build-${build.key.slice(0, 12)}`, 'repo', caller.owner), [LABEL_BUILD]: 'step' },
              checkImage,
              ensureImage: deps.ensureImage ?? ((ref) => presentOnly(deps.docker, ref)),
            },
            { context, tag: build.tag, labels: build.labels, buildArgs, target },
            plan,
            { signal: options.signal, onLine, logMaxBytes: BUILD_LOG_MAX_BYTES },
          );
    if (plan instanceof Error) onLine(`ERROR: ${plan.message}`);
    const common = { image_tag: build.tag, commit_sha: checkout.commitSha, cache_hit: false, build_time: seconds(), build_log: buildLog.text() };
    if (!outcome.ok) return { ...common, image_id: null, build_failed: { reason: outcome.reason, message: outcome.message, log: outcome.stepLog } };
    deps.log.info({ tag: build.tag, image: outcome.imageId, commit: checkout.commitSha, seconds: common.build_time }, 'repository image built');
    await pruneCallerBuildCache(deps.docker, { instance: deps.instance, owner: caller.owner, maxBytes: deps.settings.build.cacheMaxBytes, keep: outcome.imageId, log: deps.log }).catch((err: unknown) =>
      deps.log.warn({ owner: caller.owner, err: String(err) }, 'pruning the caller\'s build cache failed'),
    );
    return { ...common, image_id: outcome.imageId };
  });
  return cloned.catch((err: unknown) => {
    // A repository refused for its size is logged once, one line, no stack: the run records the rest.
    if (err instanceof SlipwayError && err.code === 'SLIPWAY_ERR_REPO_TOO_LARGE') deps.log.warn({ repo: input.repo_url, code: err.code }, err.message);
    throw err;
  });
}

async function cached(deps: RepoImageDeps, build: { tag: string; labels: Record<string, string> }, onLine: (line: string) => void): Promise<Pick<RepoImageResult, 'image_tag' | 'image_id' | 'cache_hit'> | null> {
  const imageId = await findCachedImage(deps.docker, build.tag, build.labels);
  if (!imageId) return null;
  // Another caller may have built it: the images its build read must pass this caller's allow-list too.
  const readImages = JSON.parse((await deps.docker.inspectImage(imageId))?.Config?.Labels?.[LABEL_BUILD_IMAGES] ?? '[]') as string[];
  for (const ref of readImages) assertImageAllowed(ref, deps.caller ?? { imageAllow: [] }, 'dockerfile_path');
  onLine(`Using cached image ${build.tag} (${imageId})`);
  return { image_tag: build.tag, image_id: imageId, cache_hit: true };
}

/** Without the gateway's image path: an image already on the engine, never a pull. */
async function presentOnly(docker: DockerClient, ref: string): Promise<void> {
  if (await docker.inspectImage(ref)) return;
  throw new SlipwayError('SLIPWAY_ERR_IMAGE_NOT_FOUND', `image ${ref} named by the Dockerfile is not present, and builds do not pull`, { field: 'dockerfile_path' });
}
