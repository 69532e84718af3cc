/**
 * Assembles the Fastify instance: third-party plugins, then Slipway's decorators,
 * then the route groups. Building it does not listen, so tests can start it on port 0.
 */
import Fastify, { type FastifyInstance, type FastifyBaseLogger } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import { createAudit, registerRestAudit, type Audit } from './audit.js';
import { registerAuth } from './auth.js';
import { toErrorReply } from './error-reply.js';
import { PrometheusMetrics, registerMetrics } from './metrics.js';
import { SlipwayError } from '../lib/errors.js';
import { createRuntime } from '../lib/runtime/create-runtime.js';
import { Slipway } from '../lib/slipway.js';
import { slipwaySettings } from './slipway-settings.js';
import { ajv, queryAjv } from '../schemas/validator.js';
import { OPERATIONS } from '../operations/index.js';
import { serverInstructions } from '../operations/instructions.js';
import { serverFacts } from '../operations/operation.js';
import healthRoutes from '../routes/health.js';
import mcpRoutes from '../routes/mcp.js';
import operationRoutes from '../routes/operations.js';
import runRoutes from '../routes/runs.js';

declare module 'fastify' {
  interface FastifyInstance {
    slipway: Slipway;
    config: Config;
    audit: Audit;
  }
}

export interface AppOptions {
  logger: Logger;
}

export async function buildApp(config: Config, options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    // Time to receive a whole request (not to answer it: a waited-for run may take an
    // hour): a client trickling its body is cut off.
    requestTimeout: config.requestTimeoutSeconds * 1000,
    http: {
      // Slowloris: a client must finish its headers this fast; checked every second
      // (Node's default check interval is 30 s, which would let the timeout slip).
      headersTimeout: config.headersTimeoutSeconds * 1000,
      connectionsCheckingInterval: 1000,
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // One Ajv for both doors (schemas/validator.ts); query strings arrive as text and are coerced.
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'querystring' ? queryAjv : ajv).compile(schema));
  app.setErrorHandler((err, request, reply) => {
    const { statusCode, body, headers } = toErrorReply(err);
    if (statusCode >= 500) request.log.error({ err }, 'request failed');
    return reply.status(statusCode).headers(headers).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const { statusCode, body } = toErrorReply(new SlipwayError('SLIPWAY_ERR_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`));
    return reply.status(statusCode).send(body);
  });

  // Dashboards on the origins the operator named may call the API; no other page can
  // read an answer. Tokens travel as a Bearer header (never cookies), so no credentials mode.
  if (config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.corsOrigins,
      methods: ['GET', 'POST', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'last-event-id', 'mcp-session-id', 'mcp-protocol-version'],
      exposedHeaders: ['location', 'retry-after', 'mcp-session-id'],
      maxAge: 600,
    });
  }

  // Bearer tokens are documented (and offered by /docs) only where the server has them.
  const tokensOn = config.auth.tokens.length > 0;
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Slipway',
        version: '0.1.0',
        description: `Run containers and code on a container engine, hardened by default. Every operation here is also an MCP tool at /mcp (named in its summary).\n\n${serverInstructions(config)}`,
      },
      tags: [
        { name: 'runs', description: 'Run an image or a code payload' },
        { name: 'containers', description: 'Slipway\'s containers' },
        { name: 'images', description: 'Images' },
        { name: 'health', description: 'Liveness and readiness' },
      ],
      ...(tokensOn ? { components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } }, security: [{ bearer: [] }] } : {}),
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const metrics = new PrometheusMetrics();
  const runtime = createRuntime(
    {
      metrics,
      backend: config.backend,
      docker: config.docker,
      outputCapBytes: config.outputCapBytes,
      outputLimitBytes: config.outputLimitBytes,
      stopGraceSeconds: config.stopGraceSeconds,
    },
    options.logger.child({ component: 'docker' }),
  );
  const slipway = new Slipway(runtime, slipwaySettings(config), options.logger.child({ component: 'executor' }), metrics);
  await slipway.init();
  app.decorate('slipway', slipway);
  app.decorate('config', config);
  // Before the server waits for open requests: a waited-for run would otherwise hold
  // its request (and shutdown) open until its timeout. Its container is stopped and removed.
  app.addHook('preClose', async () => slipway.shutdown());
  app.addHook('onClose', async () => slipway.close());
  registerAuth(app, config, slipway.openCaller);
  const audit = createAudit(options.logger);
  app.decorate('audit', audit);
  registerRestAudit(app, audit);
  registerMetrics(app, metrics);
  if (config.auth.rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      max: config.auth.rateLimitPerMinute,
      timeWindow: 60_000,
      // After authentication, so the limit is per token (per address on an open server).
      hook: 'preHandler',
      keyGenerator: (request) => request.caller?.name ?? request.ip,
      allowList: (request) => request.routeOptions.config?.scope === undefined,
      errorResponseBuilder: (_request, context) =>
        new SlipwayError('SLIPWAY_ERR_RATE_LIMITED', `more than ${context.max} requests a minute`, { retryAfterSeconds: Math.ceil(context.ttl / 1000) }),
    });
  }

  await app.register(healthRoutes);
  const facts = serverFacts(config);
  await app.register(operationRoutes, { operations: OPERATIONS, describe: (op) => op.description(facts) });
  await app.register(runRoutes, { prefix: '/v1' });
  await app.register(mcpRoutes);
  metrics.observe('mcp_sessions_open', () => app.mcpSessions.size);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}

