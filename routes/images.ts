/** Image pulls. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorReplies } from '../schemas/error-reply.js';
import { PullImageInput, PullImageResult } from '../schemas/images.js';

const imageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/images/pull',
    {
      config: { scope: 'pull' },
      schema: {
        tags: ['images'],
        summary: 'Pull an image (pull_docker_image)',
        description: 'Registry credentials come from the server configuration only.',
        body: PullImageInput,
        response: { 200: PullImageResult, ...errorReplies },
      },
    },
    async (request) => app.slipway.pullImage(request.body, { caller: request.caller }),
  );
};

export default imageRoutes;
