/** Liveness (the process answers) and readiness (the Docker engine answers). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { described, errorReplies } from '../schemas/error-reply.js';

const Status = Type.Object({ status: Type.String({ description: '`ok` or `ready`.' }) });
const Ready = Type.Object({
  status: Type.String({ description: '`ready`.' }),
  details: Type.Optional(
    Type.Record(Type.String(), Type.String(), { description: "The backend's checks of what it relies on but cannot set per run (Swarm: the nodes' daemon settings), and the warm pool's state per entry (`pool python`)." }),
  ),
});

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/healthz',
    { schema: { tags: ['health'], summary: 'The process is up', security: [], response: { 200: described(Status, 'The process answers.') } } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'The Docker engine is reachable',
        security: [],
        response: { 200: described(Ready, 'The engine answers: runs can start.'), ...errorReplies([503]) },
      },
    },
    async () => {
      await app.slipway.ping();
      const details = await app.slipway.readiness();
      return details ? { status: 'ready', details } : { status: 'ready' };
    },
  );
};

export default healthRoutes;
