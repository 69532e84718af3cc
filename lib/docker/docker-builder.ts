/**
 * The Docker backend's build capability: the repository recipe (lib/docker/repo-image.ts,
 * which interprets the Dockerfile step by step in hardened containers) and the pruning
 * of its image cache, both on this backend's client.
 */
import { pruneBuildImages } from './build-image-cache.js';
import { prepareRepoImage } from './repo-image.js';
import type { ImageBuilder } from '../runtime/container-runtime.js';
import type { PruneOptions, PruneResult, RepoBuildDeps, RepoImageInput, RepoImageOptions, RepoImageResult } from '../repo-build.js';
import type { DockerClient } from './docker-client.js';

export class DockerBuilder implements ImageBuilder {
  constructor(private readonly client: DockerClient) {}

  repoImage(deps: RepoBuildDeps, input: RepoImageInput, options?: RepoImageOptions): Promise<RepoImageResult> {
    return prepareRepoImage({ ...deps, docker: this.client }, input, options);
  }

  prune(options: PruneOptions): Promise<PruneResult> {
    return pruneBuildImages(this.client, options);
  }
}
