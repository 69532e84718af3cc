/**
 * Images built from repositories are a cache: found again by tag and labels, and
 * pruned after a retention period. Only this instance's `kind=repo` images are
 * touched, and the engine's own refusal (409) keeps any image a container still uses.
 */
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { DockerClient } from './docker-client.js';
import { SlipwayError } from '../errors.js';
import type { PruneOptions, PruneResult } from '../repo-build.js';
import { LABEL_INSTANCE, LABEL_KIND, LABEL_LAYER_BYTES, LABEL_MANAGED, LABEL_OWNER } from '../labels.js';

/**
 * The image id under `tag` when it carries every one of `labels` (ours, same inputs),
 * else null: a tag someone else put there is rebuilt over, never trusted.
 */
export async function findCachedImage(docker: DockerClient, tag: string, labels: Record<string, string>): Promise<string | null> {
  const info = await docker.inspectImage(tag);
  if (!info) return null;
  const have = info.Config?.Labels ?? {};
  return Object.entries(labels).every(([k, v]) => have[k] === v) ? info.Id : null;
}



/**
 * Removes this instance's repository build images (final images and step layers)
 * created more than `retentionSeconds` ago. Children go before their parents: a parent
 * refuses removal (409) while a child exists, so passes repeat while they make progress.
 */
export async function pruneBuildImages(docker: DockerClient, options: PruneOptions): Promise<PruneResult> {
  const cutoff = (options.now ?? Date.now()) / 1000 - options.retentionSeconds;
  const images = await docker.listImages(repoImages(options.instance));
  const result: PruneResult = { removed: [], inUse: [] };
  let pending = images.filter((image) => image.Created <= cutoff);
  for (;;) {
    const refused: Docker.ImageInfo[] = [];
    for (const image of pending) {
      const outcome = await removeImage(docker, image);
      if (outcome === 'in-use') refused.push(image);
      else result.removed.push(image.Id);
      options.log.debug({ image: image.Id, tags: image.RepoTags, outcome }, 'build image prune');
    }
    if (refused.length === 0 || refused.length === pending.length) {
      result.inUse.push(...refused.map((i) => i.Id));
      break;
    }
    pending = refused;
  }
  if (result.removed.length > 0) options.log.info({ removed: result.removed.length, inUse: result.inUse.length }, 'pruned build images');
  return result;
}

export interface CallerCacheOptions {
  instance: string;
  /** The caller's token name; null for the open caller (images without an owner label). */
  owner: string | null;
  /** SLIPWAY_BUILD_CACHE_MAX_BYTES: the sum of the layers the caller's build images add. */
  maxBytes: number;
  /** The image just built: neither it nor its ancestors are pruned to make room. */
  keep?: string | undefined;
  log: Logger;
}

/**
 * Holds one caller's build cache under its budget: the oldest images go first, each
 * with its descendants (children before parents), until the caller's layers fit.
 */
export async function pruneCallerBuildCache(docker: DockerClient, options: CallerCacheOptions): Promise<string[]> {
  const all = await docker.listImages(repoImages(options.instance));
  const mine = all.filter((i) => (i.Labels?.[LABEL_OWNER] ?? null) === options.owner);
  const bytes = (i: Docker.ImageInfo) => Number(i.Labels?.[LABEL_LAYER_BYTES] ?? i.Size) || 0;
  let total = mine.reduce((sum, i) => sum + bytes(i), 0);
  if (total <= options.maxBytes) return [];
  const byId = new Map(all.map((i) => [i.Id, i]));
  const protectedIds = new Set<string>();
  for (let id = options.keep; id && !protectedIds.has(id); id = byId.get(id)?.ParentId) protectedIds.add(id);
  const descendants = (id: string): Docker.ImageInfo[] => all.filter((i) => i.ParentId === id).flatMap((c) => [...descendants(c.Id), c]);
  const removed: string[] = [];
  for (const oldest of [...mine].sort((a, b) => a.Created - b.Created)) {
    if (total <= options.maxBytes) break;
    if (protectedIds.has(oldest.Id) || removed.includes(oldest.Id)) continue;
    const chain = [...descendants(oldest.Id), oldest].filter((i) => !removed.includes(i.Id));
    if (chain.some((i) => protectedIds.has(i.Id))) continue;
    for (const image of chain) {
      if ((await removeImage(docker, image)) === 'in-use') break;
      removed.push(image.Id);
      if (mine.includes(image)) total -= bytes(image);
    }
  }
  options.log.info({ owner: options.owner, removed: removed.length, bytes: total }, 'build cache over its budget: pruned the oldest images');
  return removed;
}

function repoImages(instance: string): Record<string, string[]> {
  return { label: [`${LABEL_MANAGED}=true`, `${LABEL_INSTANCE}=${instance}`, `${LABEL_KIND}=repo`] };
}

/** By tag while it has tags (removing by id refuses an image with several), then by id. */
async function removeImage(docker: DockerClient, image: Docker.ImageInfo): Promise<'removed' | 'in-use'> {
  const tags = (image.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
  for (const name of [...tags, image.Id]) {
    try {
      // No force: the engine answers 409 for an image a container uses or a child depends on.
      await docker.removeImage(name);
    } catch (err) {
      if (err instanceof SlipwayError && err.code === 'SLIPWAY_ERR_CONFLICT') return 'in-use';
      throw err;
    }
  }
  return 'removed';
}
