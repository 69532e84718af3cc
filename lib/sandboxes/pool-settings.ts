/**
 * SLIPWAY_POOL: which sandbox containers the warm pool keeps ready, read by
 * server/config.ts and checked here, so a bad value stops start-up with one line naming
 * the setting, the entry and what is accepted.
 *
 * `{"python": 2, "busybox:1.36": 1}`: a key is a language preset name (the preset's image
 * and environment) or an image reference with a tag or digest (no environment); the value
 * is how many idle containers of it to keep. Every pooled container holds the server's
 * default limits (its memory is reserved, not free) so the total is capped.
 */
import { IMAGE_REFERENCE_PATTERN } from '../../schemas/common.js';
import type { LanguagePreset } from '../language-presets.js';

/** Pooled containers at most, all entries together: each one holds its memory limit while idle. */
export const POOL_MAX_TOTAL = 16;

export interface PoolEntrySettings {
  /** As configured: a preset name or an image reference; also the `io.slipway.pool` label value. */
  key: string;
  image: string;
  /** The preset's environment (empty for an image): part of the container, so part of what a claim must match. */
  env: Record<string, string>;
  /** Idle containers to keep ready. */
  size: number;
}

export interface PoolSettings {
  entries: PoolEntrySettings[];
  /** How often idle containers are checked (a stopped or vanished one is replaced). */
  checkIntervalSeconds: number;
}

export const NO_POOL: PoolSettings = { entries: [], checkIntervalSeconds: 5 };

const SETTING = 'SLIPWAY_POOL';

export function parsePool(raw: unknown, presets: Record<string, LanguagePreset>, checkIntervalSeconds: number): PoolSettings {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(`${SETTING} must be a JSON object of language preset or image to a count, such as {"python": 2, "busybox:1.36": 1}`);
  }
  const entries: PoolEntrySettings[] = [];
  for (const [key, size] of Object.entries(raw as Record<string, unknown>)) {
    const where = `${SETTING}["${key}"]`;
    if (!Number.isInteger(size) || (size as number) < 0) throw new Error(`${where} must be a whole number of containers (0 or more), got ${JSON.stringify(size)}`);
    entries.push({ key, ...poolImage(where, key, presets), size: size as number });
  }
  const total = entries.reduce((sum, e) => sum + e.size, 0);
  if (total > POOL_MAX_TOTAL) throw new Error(`${SETTING} asks for ${total} pooled containers in all; the server keeps at most ${POOL_MAX_TOTAL}`);
  return { entries: entries.filter((e) => e.size > 0), checkIntervalSeconds };
}

/** A preset name gives the preset's image and environment; anything else must be an image with a tag or digest. */
function poolImage(where: string, key: string, presets: Record<string, LanguagePreset>): { image: string; env: Record<string, string> } {
  if (Object.hasOwn(presets, key)) return { image: presets[key]!.image, env: { ...presets[key]!.env } };
  // A bare word is far more likely a mistyped language than an untagged image: refuse it.
  const tagged = /[:@]/.test(key.slice(key.lastIndexOf('/') + 1));
  if (!tagged || !new RegExp(IMAGE_REFERENCE_PATTERN, 'u').test(key)) {
    throw new Error(`${where}: not a language preset (${Object.keys(presets).join(', ')}) nor an image reference with a tag such as busybox:1.36`);
  }
  return { image: key, env: {} };
}
