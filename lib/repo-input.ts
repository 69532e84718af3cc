/**
 * What can be checked of a repository run's input before its run record exists: a
 * request refused as bad input (an scp-style URL, a ref git would refuse, a path with
 * `..`) then leaves no `error` run behind. The same checks run again where the clone
 * and the build use the values; these only move the refusal earlier.
 */
import { cleanRelativePath } from './build-context.js';
import { checkBuildArgs, checkTarget } from './build-inputs.js';
import { checkRefName } from './git-clone.js';
import { checkRepoUrl } from './git-url-policy.js';
import { DEFAULT_DOCKERFILE } from './repo-build.js';
import type { RepoRunInput } from '../schemas/repo-run.js';

export async function checkRepoInput(input: RepoRunInput, allowedHosts: readonly string[]): Promise<void> {
  checkBuildArgs(input.build_args);
  checkTarget(input.target);
  cleanRelativePath(input.context_path ?? '.', 'context_path');
  cleanRelativePath(input.dockerfile_path ?? DEFAULT_DOCKERFILE, 'dockerfile_path');
  if (input.ref !== undefined) checkRefName(input.ref);
  // Grammar, scheme, allow-list and the addresses the host resolves to (403 for an internal one).
  await checkRepoUrl(input.repo_url, { allowedHosts });
}
