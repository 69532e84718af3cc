/**
 * Images built from repositories are a cache: found again by tag and labels, and
 * pruned after a retention period. Only this instance's `kind=repo` images are
 * touched, and the engine's own refusal (409) keeps any image a container still uses.
 */
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { DockerClient } from './docker-client.js';
import { toSlipwayError } from './docker-client.js';
import { LABEL_INSTANCE, LABEL_KIND, LABEL_MANAGED } from './labels.js';

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

export interface PruneOptions {
  instance: string;
  retentionSeconds: number;
  log: Logger;
  /** For tests: the clock, in epoch milliseconds. */
  now?: number;
}

export interface PruneResult {
  /** Image ids removed. */
  removed: string[];
  /** Image ids past retention that the engine kept (in use by a container). */
  inUse: string[];
}

/** Removes this instance's repository build images created more than `retentionSeconds` ago. */
export async function pruneBuildImages(docker: DockerClient, options: PruneOptions): Promise<PruneResult> {
  const cutoff = (options.now ?? Date.now()) / 1000 - options.retentionSeconds;
  const filters = { label: [`${LABEL_MANAGED}=true`, `${LABEL_INSTANCE}=${options.instance}`, `${LABEL_KIND}=repo`] };
  let images: Docker.ImageInfo[];
  try {
    images = await docker.engine.listImages({ filters });
  } catch (err) {
    throw toSlipwayError(err);
  }
  const result: PruneResult = { removed: [], inUse: [] };
  for (const image of images) {
    if (image.Created > cutoff) continue;
    // By tag while it has tags (removing by id refuses an image with several), then by id.
    const names = (image.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
    const outcome = await removeImage(docker, names.length > 0 ? names : [image.Id]);
    if (outcome === 'in-use') result.inUse.push(image.Id);
    else result.removed.push(image.Id);
    options.log.info({ image: image.Id, tags: names, outcome }, 'build image prune');
  }
  return result;
}

async function removeImage(docker: DockerClient, names: string[]): Promise<'removed' | 'in-use'> {
  for (const name of names) {
    try {
      // No force: the engine answers 409 for an image a container (running or not) uses.
      await docker.engine.getImage(name).remove({ noprune: false });
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404) continue;
      if (status === 409) return 'in-use';
      throw toSlipwayError(err);
    }
  }
  return 'removed';
}
