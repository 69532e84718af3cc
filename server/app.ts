/**
 * Assembles the Fastify instance: third-party plugins, then Slipway's decorators,
 * then the route groups. Building it does not listen, so tests can start it on port 0.
 */
import Fastify, { type FastifyInstance, type FastifyBaseLogger } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createAudit, registerRestAudit, type Audit } from './plugins/audit.js';
import { registerAuth } from './plugins/auth.js';
import { registerOpenApi, registerOpenApiDocument } from './plugins/openapi.js';
import { registerRateLimit } from './plugins/rate-limit.js';
import cors from '@fastify/cors';
import { toErrorReply } from './error-reply.js';
import { PrometheusMetrics, registerMetrics } from './metrics.js';
import { SlipwayError } from '../lib/errors.js';
import { createRuntime } from '../lib/runtime/create-runtime.js';
import { Slipway } from '../lib/slipway.js';
import { slipwaySettings } from './slipway-settings.js';
import { ajv, queryAjv } from '../schemas/validator.js';
import { OPERATIONS, REST_ONLY_OPERATIONS } from '../operations/index.js';
import { serverFacts } from '../operations/operation.js';
import healthRoutes from '../routes/health.js';
import mcpRoutes from '../routes/mcp.js';
import operationRoutes from '../routes/operations.js';
import restOnlyRoutes from '../routes/rest-only-operations.js';
import runRoutes from '../routes/runs.js';
import uiRoutes from '../routes/ui.js';

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
      methods: ['GET', 'POST', 'PUT', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'last-event-id', 'mcp-session-id', 'mcp-protocol-version'],
      exposedHeaders: ['location', 'retry-after', 'mcp-session-id'],
      maxAge: 600,
    });
  }

  await registerOpenApi(app, config);

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
  await registerRateLimit(app, config);

  await app.register(healthRoutes);
  const facts = serverFacts(config);
  await app.register(operationRoutes, { operations: OPERATIONS, describe: (op) => op.description(facts) });
  await app.register(restOnlyRoutes, { operations: REST_ONLY_OPERATIONS, config, describe: (op) => op.description(facts) });
  await app.register(runRoutes, { prefix: '/v1' });
  await app.register(mcpRoutes);
  metrics.observe('mcp_sessions_open', () => app.mcpSessions.size);
  await app.register(uiRoutes);
  registerOpenApiDocument(app);
  return app;
}

