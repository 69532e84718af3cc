/**
 * build_and_execute_github_repo: clone, build (or reuse the cached build), then run the
 * image like an image run. The build is the run's own field group (RunOutcome.build),
 * kept by the run store and mapped to the public fields in one place (lib/run-record.ts).
 */
import { policyDenied } from '../errors.js';
import type { Caller } from '../caller.js';
import { toArgv } from '../command-line.js';
import { resolveLimits } from '../policy.js';
import type { RepoImageResult } from '../repo-build.js';
import { checkRepoInput } from '../repo-input.js';
import type { RunOutcome } from '../run-record.js';
import type { RunPlan } from '../runs.js';
import { requireCapability } from '../runtime/capabilities.js';
import type { RepoRunInput } from '../../schemas/repo-run.js';
import type { RunResult } from '../../schemas/run-result.js';
import { ensureImage, imageContainer, requireBackendSupport, withoutRunControl, type RunKindContext } from './run-context.js';

/** A build that failed or ran out of time: the run ends without a container. */
export function failedBuildResult(runId: string, built: RepoImageResult): RunResult {
  const failure = built.build_failed!;
  return {
    success: false,
    exit_code: null,
    stdout: '',
    stderr: failure.log,
    execution_time: 0,
    error_message: `build ${failure.reason === 'timed_out' ? 'timed out' : 'failed'}: ${failure.message}`,
    run_id: runId,
    status: failure.reason === 'timed_out' ? 'timed_out' : 'failed',
    container_id: null,
    image: built.image_tag,
    started_at: null,
    finished_at: new Date().toISOString(),
    stdout_truncated: false,
    stderr_truncated: false,
    resource_usage: null,
    resource_usage_unavailable: 'the build failed, so no container was started',
  };
}

/**
 * Checks the request (builds allowed, the backend builds, stdin, the repository URL and
 * paths) and answers its plan; nothing is cloned or queued yet.
 */
export async function repoRunPlan(ctx: RunKindContext, input: RepoRunInput, caller: Caller): Promise<RunPlan> {
  if (!caller.policy.allowBuilds) throw policyDenied('repo_url', 'building repositories is not allowed by the server');
  requireCapability(ctx.runtime, 'build', 'repo_url');
  requireBackendSupport(ctx, input.stdin, caller);
  const builder = ctx.runtime.builder!;
  const limits = resolveLimits(input, caller.policy);
  const cmd = toArgv(input.command, 'command');
  const entrypoint = toArgv(input.entrypoint, 'entrypoint');
  await checkRepoInput(input, ctx.repoBuild.git.allowedHosts);
  const deps = {
    log: ctx.log,
    instance: ctx.instance,
    settings: { ...ctx.repoBuild, build: { ...ctx.repoBuild.build, network: caller.policy.buildNetwork } },
  };
  return {
    kind: 'repo',
    image: input.repo_url,
    timeoutMs: limits.timeoutMs,
    request: withoutRunControl(input),
    execute: async ({ runId, signal, emit }): Promise<RunOutcome> => {
      const buildCaller = { owner: caller.name, imageAllow: caller.policy.imageAllow, runtime: caller.policy.runtime };
      // A FROM image comes through the gateway's own image path (its pull checks and credentials), never a daemon pull.
      const baseImage = (ref: string, stepSignal: AbortSignal) => ensureImage(ctx, ref, 'missing', emit, stepSignal);
      const built = await builder.repoImage({ ...deps, caller: buildCaller, runId, ensureImage: baseImage }, input, { signal, onEvent: emit });
      const { build_failed: _failed, ...build } = built;
      if (built.build_failed) return { result: failedBuildResult(runId, built), build };
      const container = imageContainer(ctx, runId, 'repo', built.image_tag, input, { cmd, entrypoint }, limits, caller);
      return { result: await ctx.runtime.run(container, { signal, onEvent: emit, active: ctx.activeRuns }), build };
    },
  };
}
