/**
 * The OpenAPI document (/openapi.json) and its page (/docs): every route's schema,
 * tags and responses, with bearer tokens documented only where the server has them.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { serverInstructions } from '../../operations/instructions.js';

/** Registers the document generator and the /docs page; call before the routes it describes. */
export async function registerOpenApi(app: FastifyInstance, config: Config): Promise<void> {
  const tokensOn = config.auth.tokens.length > 0;
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Slipway',
        version: '0.1.0',
        description: `Run containers and code on a container engine, hardened by default. Every operation here is also an MCP tool at /mcp (named in its summary), except the few whose summary says REST only, and why.\n\n${serverInstructions(config)}`,
      },
      tags: [
        { name: 'runs', description: 'Run an image or a code payload' },
        { name: 'containers', description: 'Slipway\'s containers' },
        { name: 'images', description: 'Images' },
        { name: 'sandboxes', description: 'Long-lived containers to exec in and keep files in' },
        { name: 'server', description: 'What the server allows the caller' },
        { name: 'health', description: 'Liveness and readiness' },
      ],
      ...(tokensOn ? { components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } }, security: [{ bearer: [] }] } : {}),
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}

/** The document itself, once every route is registered. */
export function registerOpenApiDocument(app: FastifyInstance): void {
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
