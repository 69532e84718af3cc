/** Code payload runs. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorReplies } from '../schemas/error-reply.js';
import { PayloadRunInput } from '../schemas/payload-run.js';
import { RunResult } from '../schemas/run-result.js';
import { IdempotencyHeaders, runCallOptions, sendRun } from './run-reply.js';

const payloadRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/payloads/run',
    {
      config: { scope: 'run' },
      schema: {
        tags: ['runs'],
        summary: 'Run a code payload (execute_with_payload)',
        description:
          'Writes `files` (or `payload`) into /workspace of a fresh container and runs the language preset\'s command, or `command` in `image`. Runs as a non-root user with the hardened defaults.',
        headers: IdempotencyHeaders,
        body: PayloadRunInput,
        response: { 200: RunResult, 202: RunResult, ...errorReplies },
      },
    },
    async (request, reply) => sendRun(reply, await app.slipway.runPayload(request.body, runCallOptions(request)), request.body.wait !== false),
  );
};

export default payloadRoutes;
