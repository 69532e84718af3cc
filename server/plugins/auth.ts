/**
 * Who is calling, on every door. Routes declare the scope they need in their config
 * (`config: { scope: 'run' }`; routes/operations.ts sets the operation's); this plugin
 * authenticates the bearer token, checks the scope with the one check both doors use
 * (operations/invoke.ts authorize), and hangs the Caller (name, visibility, effective policy) on the request for
 * the routes and the MCP tools to hand to lib/. Routes without a scope (health, docs)
 * are public. Without a tokens file the server is open: every request is the one open
 * caller with every scope (server/config.ts allows that on loopback only).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Caller, CallerPolicy } from '../../lib/caller.js';
import { SlipwayError } from '../../lib/errors.js';
import { AuthFailureLimiter } from '../auth-failures.js';
import type { Config } from '../config.js';
import { authorize } from '../../operations/invoke.js';
import { findToken, type Scope, type TokenEntry } from '../tokens.js';

/** `mcp` authenticates only: each MCP tool call checks its own scope (operations/invoke.ts). */
export type RouteScope = Scope | 'mcp';

declare module 'fastify' {
  interface FastifyContextConfig {
    scope?: RouteScope;
  }
  interface FastifyRequest {
    caller: Caller;
    scopes: ReadonlySet<Scope>;
  }
}

const ALL_SCOPES: ReadonlySet<Scope> = new Set(['run', 'build', 'pull', 'read', 'admin']);

/** The server's own policy: what the open caller gets, and what every token's policy starts from. */
export function serverPolicy(config: Config): CallerPolicy {
  return {
    defaults: config.defaults,
    caps: config.caps,
    networkModes: config.networkModes,
    allowWritableRootfs: config.allowWritableRootfs,
    imageAllow: config.imageAllow,
    manageAllContainers: config.manageAllContainers,
    allowBuilds: config.allowBuilds,
    buildNetwork: config.repoBuild.build.network,
    runtime: config.runtime,
  };
}

/** A token's overrides on top of the server policy (the tokens file is server configuration too). */
export function tokenCaller(config: Config, token: TokenEntry): Caller {
  const base = serverPolicy(config);
  const p = token.policy;
  const caps = {
    memoryBytes: p.memory_max_bytes ?? base.caps.memoryBytes,
    cpus: p.cpu_max ?? base.caps.cpus,
    pidsLimit: p.pids_max ?? base.caps.pidsLimit,
    timeoutSeconds: p.timeout_max_seconds ?? base.caps.timeoutSeconds,
  };
  const defaults = {
    memoryBytes: Math.min(base.defaults.memoryBytes, caps.memoryBytes),
    cpus: Math.min(base.defaults.cpus, caps.cpus),
    pidsLimit: Math.min(base.defaults.pidsLimit, caps.pidsLimit),
    timeoutSeconds: Math.min(base.defaults.timeoutSeconds, caps.timeoutSeconds),
  };
  return {
    name: token.name,
    seesAll: token.scopes.has('admin'),
    policy: {
      ...base,
      defaults,
      caps,
      networkModes: p.network_modes ?? base.networkModes,
      imageAllow: p.image_allow ?? base.imageAllow,
      manageAllContainers: p.manage_all_containers ?? base.manageAllContainers,
      allowBuilds: p.allow_builds ?? base.allowBuilds,
      buildNetwork: p.build_network ?? base.buildNetwork,
      runtime: p.runtime ?? base.runtime,
      placement: p.placement ?? base.placement,
      maxConcurrentRuns: p.max_concurrent_runs ?? config.auth.maxRunsPerToken,
    },
  };
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

export function registerAuth(app: FastifyInstance, config: Config, openCaller: Caller): void {
  const { tokens } = config.auth;
  const callers = new Map(tokens.map((t) => [t.name, tokenCaller(config, t)]));
  const failures = new AuthFailureLimiter(config.auth.failuresPerMinute, 60_000);
  app.decorateRequest('caller', null as unknown as Caller);
  app.decorateRequest('scopes', null as unknown as ReadonlySet<Scope>);
  app.addHook('onRequest', async (request) => {
    const scope = request.routeOptions.config?.scope;
    if (scope === undefined) return;
    if (tokens.length === 0) {
      request.caller = openCaller;
      request.scopes = ALL_SCOPES;
      return;
    }
    failures.check(request.ip);
    const presented = bearer(request);
    if (presented === undefined) throw new SlipwayError('SLIPWAY_ERR_UNAUTHORIZED', 'a bearer token is required (Authorization: Bearer <token>)');
    const token = findToken(tokens, presented);
    if (!token) {
      failures.fail(request.ip);
      throw new SlipwayError('SLIPWAY_ERR_UNAUTHORIZED', 'the bearer token is not valid', { field: 'authorization' });
    }
    request.caller = callers.get(token.name)!;
    request.scopes = token.scopes;
    if (scope !== 'mcp') authorize({ scope }, request);
  });
}
