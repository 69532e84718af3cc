/**
 * What a repository build is given and gives back, in the backend's neutral terms: the
 * settings, the caller, the input and the result of "from a repository to an image".
 * The recipe itself runs in a backend that can build (lib/docker/repo-image.ts); the
 * operations above the seam see only these shapes (lib/runtime/container-runtime.ts).
 */
import type { Logger } from 'pino';
import type { CloneSettings } from './git-clone.js';
import type { Resolver } from './git-url-policy.js';
import type { BuildLimits } from './image-build.js';
import type { RunEvent } from './run-events.js';

/** The Dockerfile's path in the build context when the caller names none. */
export const DEFAULT_DOCKERFILE = 'Dockerfile';

export interface RepoBuildSettings {
  git: CloneSettings;
  build: BuildLimits & {
    /** Sum of file sizes in the build context. */
    contextMaxBytes: number;
    /** Per caller: the sum of the layers of their cached build images (pruneCallerBuildCache). */
    cacheMaxBytes: number;
    /** Build images older than this are pruned (pruneBuildImages). */
    imageRetentionSeconds: number;
  };
}

export interface RepoBuildDeps {
  log: Logger;
  instance: string;
  settings: RepoBuildSettings;
  /** DNS for the URL pre-check (tests); connections always use the system resolver. */
  resolve?: Resolver;
  /** Who builds: the owner label, the image allow-list every FROM and COPY --from must pass, the runtime. */
  caller?: BuildCaller | undefined;
  /** The run the build belongs to (labels of its step containers). */
  runId?: string | undefined;
  /**
   * Makes a base image present through the gateway's image path (lib/images.ts, with its
   * checks and credentials). Without it only images already on the engine can be used:
   * the daemon never pulls for a build.
   */
  ensureImage?: ((ref: string, signal: AbortSignal) => Promise<void>) | undefined;
}

export interface BuildCaller {
  owner: string | null;
  imageAllow: string[];
  runtime?: string | undefined;
}

/** The build half of the repo-run input (schemas/repo-run.ts). */
export interface RepoImageInput {
  repo_url: string;
  ref?: string | undefined;
  context_path?: string | undefined;
  dockerfile_path?: string | undefined;
  build_args?: Record<string, string> | undefined;
  target?: string | undefined;
}

export interface RepoImageResult {
  image_tag: string;
  /** Null when the build failed. */
  image_id: string | null;
  commit_sha: string;
  /** Seconds from the start (ref resolution, clone, build) to the image or the failure. */
  build_time: number;
  cache_hit: boolean;
  /** The end of the build output, bounded. */
  build_log: string;
  build_failed?: { reason: 'failed' | 'timed_out'; message: string; log: string };
}

/** A repo run's build as its run record keeps it (lib/run-store.ts), failed or not. */
export type RepoBuildInfo = Omit<RepoImageResult, 'build_failed'>;

export interface RepoImageOptions {
  signal?: AbortSignal | undefined;
  onEvent?: ((event: RunEvent) => void) | undefined;
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
