/** Image runs and Slipway's containers: run, list, stop. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ContainerRunInput } from '../schemas/container-run.js';
import { ContainerRef, ListContainersInput, ListContainersResult, StopContainerResult } from '../schemas/containers.js';
import { errorReplies } from '../schemas/error-reply.js';
import { RunResult } from '../schemas/run-result.js';
import { IdempotencyHeaders, runCallOptions, sendRun } from './run-reply.js';

const containerRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/containers/run',
    {
      config: { scope: 'run' },
      schema: {
        tags: ['runs'],
        summary: 'Run an image (execute_docker_container)',
        description:
          'Creates a hardened container, runs it to its end and removes it. A non-zero exit is a 200 with `success: false`. ' +
          'With `"wait": false` the answer is a 202 at once, with the run in the body and its address in Location.',
        headers: IdempotencyHeaders,
        body: ContainerRunInput,
        response: { 200: RunResult, 202: RunResult, ...errorReplies },
      },
    },
    async (request, reply) => sendRun(reply, await app.slipway.runImage(request.body, runCallOptions(request)), request.body.wait !== false),
  );

  app.get(
    '/containers',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['containers'],
        summary: 'List Slipway\'s containers (list_running_containers)',
        querystring: ListContainersInput,
        response: { 200: ListContainersResult, ...errorReplies },
      },
    },
    async (request) => app.slipway.listContainers(request.query, request.caller),
  );

  app.post(
    '/containers/:container_id/stop',
    {
      config: { scope: 'run' },
      schema: {
        tags: ['containers'],
        summary: 'Stop a Slipway container (stop_container)',
        description: 'SIGTERM, then SIGKILL after `timeout` seconds. The run it belonged to ends `cancelled`.',
        params: Type.Object({ container_id: ContainerRef }),
        body: Type.Optional(
          Type.Object(
            { timeout: Type.Optional(Type.Integer({ minimum: 0, maximum: 300, description: 'Seconds between SIGTERM and SIGKILL (default 10).' })) },
            { additionalProperties: false },
          ),
        ),
        response: { 200: StopContainerResult, ...errorReplies },
      },
      // `curl -X POST .../stop` with no body at all is the common call.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => {
      const { timeout } = request.body ?? {};
      return app.slipway.stopContainer({ container_id: request.params.container_id, ...(timeout === undefined ? {} : { timeout }) }, request.caller);
    },
  );
};

export default containerRoutes;
