/**
 * Bearer tokens from the file named by SLIPWAY_TOKENS_FILE. The file holds only
 * SHA-256 digests, never tokens; a presented token is hashed and compared in constant
 * time with every entry, so neither the file nor the timing tells a token away.
 *
 *   {"tokens": [{"name": "ci", "sha256": "<hex>", "scopes": ["run", "read"], "policy": {...}}]}
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { assertValid } from '../schemas/validator.js';
import { MIN_CPUS } from '../schemas/common.js';

export const SCOPES = ['run', 'build', 'pull', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Per-token overrides of the server's policy; every field is optional. */
export const TokenPolicy = Type.Object(
  {
    image_allow: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    memory_max_bytes: Type.Optional(Type.Integer({ minimum: 6 * 1024 * 1024 })),
    cpu_max: Type.Optional(Type.Number({ minimum: MIN_CPUS })),
    pids_max: Type.Optional(Type.Integer({ minimum: 1 })),
    timeout_max_seconds: Type.Optional(Type.Integer({ minimum: 1 })),
    network_modes: Type.Optional(Type.Array(Type.Union([Type.Literal('none'), Type.Literal('bridge')]))),
    manage_all_containers: Type.Optional(Type.Boolean()),
    allow_builds: Type.Optional(Type.Boolean()),
    build_network: Type.Optional(Type.Boolean()),
    runtime: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]+$' })),
    max_concurrent_runs: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Swarm placement constraints added to every run of the token (`node.labels.pool==batch`). */
    placement: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9_.\\-]+ *(==|!=) *[A-Za-z0-9_.\\-]+$' }), { maxItems: 16 })),
  },
  { additionalProperties: false },
);
export type TokenPolicy = Static<typeof TokenPolicy>;

const TokensFile = Type.Object(
  {
    tokens: Type.Array(
      Type.Object(
        {
          name: Type.String({ pattern: '^[A-Za-z0-9_.@-]{1,64}$' }),
          sha256: Type.String({ pattern: '^[0-9a-fA-F]{64}$' }),
          scopes: Type.Array(Type.Union(SCOPES.map((s) => Type.Literal(s))), { uniqueItems: true }),
          policy: Type.Optional(TokenPolicy),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export interface TokenEntry {
  name: string;
  digest: Buffer;
  scopes: ReadonlySet<Scope>;
  policy: TokenPolicy;
}

export function loadTokens(path: string): TokenEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`SLIPWAY_TOKENS_FILE ${path} could not be read as JSON: ${(err as Error).message}`);
  }
  try {
    const file = assertValid<Static<typeof TokensFile>>(TokensFile, parsed);
    const names = new Set<string>();
    return file.tokens.map((t) => {
      if (names.has(t.name)) throw new Error(`token name ${t.name} appears twice`);
      names.add(t.name);
      return { name: t.name, digest: Buffer.from(t.sha256, 'hex'), scopes: new Set(t.scopes), policy: t.policy ?? {} };
    });
  } catch (err) {
    throw new Error(`SLIPWAY_TOKENS_FILE ${path}: ${(err as Error).message}`);
  }
}

export function sha256Hex(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The entry whose digest matches the presented token; every entry is compared. */
export function findToken(tokens: readonly TokenEntry[], presented: string): TokenEntry | undefined {
  const digest = createHash('sha256').update(presented, 'utf8').digest();
  let found: TokenEntry | undefined;
  for (const entry of tokens) {
    if (timingSafeEqual(entry.digest, digest) && !found) found = entry;
  }
  return found;
}
