/** The MCP twin of POST /v1/repos/run. */
import { RepoRunInput, RepoRunResult } from '../../schemas/repo-run.js';
import type { Config } from '../config.js';
import { runText } from './result-text.js';
import type { SlipwayTool } from './tools.js';

export function repoTools(config: Config): SlipwayTool[] {
  if (!config.allowBuilds) return [];
  const network = config.repoBuild.build.network ? 'with network access' : 'without network access (steps that download will fail)';
  return [
    {
      name: 'build_and_execute_github_repo',
      scope: 'build',
      title: 'Build and run a git repository',
      description:
        'Clone a git repository over https (`repo_url`, at `ref`: a branch, tag or commit; default its default branch), build the ' +
        '`dockerfile_path` (default `Dockerfile`) in `context_path` with `build_args` and optional `target`, then run the image like ' +
        `execute_docker_container (same \`command\`, limits, timeout and sandbox). Builds run ${network}, with memory, CPU and time limits. ` +
        'The image is cached by repository, commit, Dockerfile and build arguments: a second call with the same inputs skips the build ' +
        '(`cache_hit: true`). Cost: a clone plus a build (seconds to minutes) the first time. Build steps arrive as log notifications. ' +
        'Result: the run\'s `status`, `exit_code`, `stdout`, `stderr`, plus `commit_sha`, `image_tag`, `image_id`, `build_time`, ' +
        '`cache_hit` and the end of `build_log`; a failing build is status `failed` with the failing step\'s output in `stderr`. ' +
        'Unknown repositories or refs, and refused URLs (non-https, private or loopback hosts), are tool errors naming `repo_url` or `ref`.',
      input: RepoRunInput,
      output: RepoRunResult,
      annotations: { title: 'Build and run a repository', readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
      async call(input, { slipway, caller, signal, notifier }) {
        const result = await slipway.runRepo(input as RepoRunInput, { caller, signal, onEvent: notifier.onEvent });
        const build = result.commit_sha ? `\ncommit ${result.commit_sha}, image ${result.image_tag}${result.cache_hit ? ' (cached)' : ''}` : '';
        return { structured: result, text: runText(result) + build };
      },
    },
  ];
}
