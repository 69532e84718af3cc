/** Repository runs: clone, build the Dockerfile (or reuse the cached build), run the image. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorReplies } from '../schemas/error-reply.js';
import { RepoRunInput, RepoRunResult } from '../schemas/repo-run.js';
import { IdempotencyHeaders, runCallOptions, sendRun } from './run-reply.js';

const repoRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/repos/run',
    {
      config: { scope: 'build' },
      schema: {
        tags: ['runs'],
        summary: 'Build and run a git repository (build_and_execute_github_repo)',
        description:
          'Clones `repo_url` at `ref` (shallow, no submodules), builds `dockerfile_path` in `context_path` with `build_args` and no network ' +
          'unless the server allows it, then runs the image like an image run. The image is cached by repository, commit, Dockerfile and ' +
          'build arguments (`cache_hit`). A failing build ends the run `failed` with the failing step\'s output in `stderr` and `build_log`.',
        headers: IdempotencyHeaders,
        body: RepoRunInput,
        response: { 200: RepoRunResult, 202: RepoRunResult, ...errorReplies, 413: errorReplies[400], 504: errorReplies[400] },
      },
    },
    async (request, reply) => sendRun(reply, await app.slipway.runRepo(request.body, runCallOptions(request)), request.body.wait !== false),
  );
};

export default repoRoutes;
