/**
 * How a repository build shows in a run's result: the build fields every repo run
 * carries, and the result of a run whose build failed (it never got a container).
 */
import type { RepoImageResult } from './repo-build.js';
import type { RepoBuildResult } from '../schemas/repo-run.js';
import type { RunResult } from '../schemas/run-result.js';

/** The build fields a repo run adds to its result. */
export function repoBuildFields(built: RepoImageResult): RepoBuildResult {
  const { image_tag, image_id, commit_sha, build_time, cache_hit, build_log } = built;
  return { image_tag, image_id, commit_sha, build_time, cache_hit, build_log };
}

/** A build that failed or ran out of time: the run ends without a container. */
export function failedBuild(runId: string, built: RepoImageResult): RunResult {
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
  };
}
