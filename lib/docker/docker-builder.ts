/**
 * The Docker backend's build capability: a thin adapter over the repository builder
 * (lib/repo-image.ts, lib/image-build.ts, lib/build-image-cache.ts), which still speaks
 * to dockerode itself while it is being rewritten elsewhere. It gets the engine through
 * `BuildEngine`, a narrow view made only in this folder; when the builder moves in here
 * the view goes.
 */
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { pruneBuildImages, type PruneOptions, type PruneResult } from '../build-image-cache.js';
import { prepareRepoImage, type RepoImageDeps, type RepoImageInput, type RepoImageOptions, type RepoImageResult } from '../repo-image.js';
import type { ImageBuilder } from '../runtime/container-runtime.js';
import { DockerClient } from './docker-client.js';

/** What the builder files use of the engine (lib/docker-client.ts re-exports it under its old name). */
export interface BuildEngine {
  readonly engine: Docker;
  inspectImage(ref: string): Promise<Docker.ImageInspectInfo | null>;
}

export function buildEngine(engine: Docker, client: DockerClient): BuildEngine {
  return { engine, inspectImage: (ref) => client.inspectImage(ref) };
}

export class DockerBuilder implements ImageBuilder {
  constructor(private readonly engine: BuildEngine) {}

  repoImage(deps: Omit<RepoImageDeps, 'docker'>, input: RepoImageInput, options?: RepoImageOptions): Promise<RepoImageResult> {
    return prepareRepoImage({ ...deps, docker: this.engine }, input, options);
  }

  prune(options: PruneOptions): Promise<PruneResult> {
    return pruneBuildImages(this.engine, options);
  }
}

/** A view with a client of its own (the repository-build test fixtures drive the builder directly). */
export function standaloneBuildEngine(engine: Docker, log: Logger): BuildEngine {
  return buildEngine(engine, new DockerClient(engine, log));
}
