/**
 * What an operation is, once, for both doors: the data the REST route, the MCP tool,
 * the scope check, the audit line and the OpenAPI entry are derived from, and the one
 * lib/ call that does the work. Nothing here knows about Fastify or the MCP SDK.
 */
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import type { Caller } from '../lib/caller.js';
import { mergePresets } from '../lib/language-presets.js';
import type { RunEvent } from '../lib/run-events.js';
import type { Slipway } from '../lib/slipway.js';
import type { Config } from '../server/config.js';
import type { Scope } from '../server/tokens.js';
import type { ErrorStatus } from '../schemas/error-reply.js';

/** What this server allows, for descriptions and hints that must tell the truth about it. */
export interface ServerFacts {
  /** Containers may have a network (`network_mode: bridge`). */
  networked: boolean;
  /** Repository builds are offered at all. */
  allowBuilds: boolean;
  /** Build steps reach the network. */
  buildNetwork: boolean;
  payloadUser: string;
  /** The language presets payload runs accept here (built in, and any the configuration adds). */
  languages: string[];
  /** `Defaults: 512m memory, 1 CPU, ...; caps: ...`: the limits a run gets and may ask for. */
  limits: string;
  /** Sandbox lifetimes, workspace and per-caller bounds, in a sentence. */
  sandboxes?: string | undefined;
}

const MIB = 1024 * 1024;

export function serverFacts(config: Config): ServerFacts {
  const { defaults: d, caps: c } = config;
  return {
    networked: config.networkModes.includes('bridge'),
    allowBuilds: config.allowBuilds,
    buildNetwork: config.repoBuild.build.network,
    payloadUser: config.payloadUser,
    languages: Object.keys(mergePresets(config.languagePresets)),
    limits:
      `Defaults: ${Math.round(d.memoryBytes / MIB)}m memory, ${d.cpus} CPU, ${d.pidsLimit} processes, ${d.timeoutSeconds} s timeout; ` +
      `caps: ${Math.round(c.memoryBytes / MIB)}m, ${c.cpus} CPUs, ${c.pidsLimit} processes, ${c.timeoutSeconds} s (more is refused, not clamped).`,
    sandboxes:
      `TTL default ${config.sandboxes.ttlDefaultSeconds} s, cap ${config.sandboxes.ttlMaxSeconds} s; idle timeout default ${config.sandboxes.idleDefaultSeconds} s; ` +
      `/workspace ${Math.round(config.sandboxes.workspaceBytes / MIB)}m (in the memory limit); at most ${config.sandboxes.maxPerCaller} sandboxes and ` +
      `${Math.round(config.sandboxes.memoryPerCallerBytes / MIB)}m of sandbox memory per caller.` +
      (config.pool.entries.length > 0
        ? ` Warm pool: ${config.pool.entries.map((e) => e.key).join(', ')} start from a ready, never-shared container when created with the default limits and no \`environment\`.`
        : ''),
  };
}

/** What one call gets besides its validated input. */
export interface OperationContext {
  slipway: Slipway;
  /** Who is calling (server/plugins/auth.ts); the open caller on a server without tokens. */
  caller: Caller;
  /** Aborted when the caller goes away or cancels the call. */
  signal: AbortSignal;
  /** Run events (output, status, pull and build progress) as they happen. */
  onEvent: (event: RunEvent) => void;
}

/** Where a REST request carries the input's fields. */
export interface RestBinding {
  method: 'GET' | 'POST' | 'DELETE';
  /** Fastify's spelling, with the `/v1` prefix: `/v1/runs/:run_id`. */
  path: string;
  /** Input fields taken from the path. */
  params?: string[];
  /** Where the other fields come from. */
  rest: 'query' | 'body';
  /** The `Idempotency-Key` header is another spelling of `idempotency_key`. */
  idempotencyHeader?: boolean;
}

/**
 * How an answer is sent. `json`: 200 with the result. `run`: 200 with the result when
 * the call waited, 202 with the run and its address in Location when it did not.
 */
export type ReplyKind = 'json' | 'run';

/** Error statuses an operation can answer with; each is documented with its meaning (schemas/error-reply.ts). */
export type { ErrorStatus };

/** Hints for a caller choosing what to call (MCP tool annotations say the same). */
export interface Hints {
  readOnly: boolean;
  destructive?: boolean;
  idempotent?: boolean;
  /** Reaches beyond this server (a registry, a git host, the internet). */
  openWorld: boolean;
}

export interface Operation<I extends TObject = TObject, O extends TSchema = TSchema> {
  /** Stable name of the operation (audit lines, tests). */
  name: string;
  /** The MCP tool's name. */
  tool: string;
  title: string;
  /** OpenAPI tag. */
  tag: 'runs' | 'containers' | 'images' | 'sandboxes' | 'server';
  /** For a model or a person choosing an operation: what it does, what it costs, how to read the answer. */
  description(facts: ServerFacts): string;
  scope: Scope;
  rest: RestBinding;
  input: I;
  output: O;
  /** What a successful answer is, in a phrase (the OpenAPI 200's description). */
  answer: string;
  /** The error statuses documented for it (every operation may also answer 400, 401, 403, 429, 503). */
  errors: ErrorStatus[];
  hints(facts: ServerFacts): Hints;
  reply: ReplyKind;
  /** The short text beside the structured result, for MCP clients that read only text. */
  text(result: Static<O>): string;
  /** Whether the MCP door lists it on this server (REST refuses with the library's own error). */
  offered?(facts: ServerFacts): boolean;
  /** The lib/ call; `input` is valid against `input`, with defaults filled in. */
  call(input: Static<I>, ctx: OperationContext): Promise<Static<O>>;
}

/** Keeps each declaration's input and output types checked, then erases them for the table. */
export function operation<I extends TObject, O extends TSchema>(op: Operation<I, O>): Operation {
  return op as unknown as Operation;
}
