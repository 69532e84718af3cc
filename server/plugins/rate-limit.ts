/**
 * Requests a minute per caller (SLIPWAY_RATE_LIMIT): checked after
 * authentication, so the limit is per token (per address on an open server); public
 * routes (health, docs) are not counted. Refusals are the catalogue's 429.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { SlipwayError } from '../../lib/errors.js';

export async function registerRateLimit(app: FastifyInstance, config: Config): Promise<void> {
  if (config.auth.rateLimitPerMinute <= 0) return;
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
