/**
 * Transitional, for the repository builder only (lib/image-build.ts, lib/repo-image.ts,
 * lib/build-image-cache.ts), which is being rewritten on another branch and keeps its
 * imports until it moves into lib/docker/. The Docker client itself is
 * lib/docker/docker-client.ts; delete this file with that move.
 */
export type { BuildEngine as DockerClient } from './docker/docker-builder.js';
export { toSlipwayError } from './docker/docker-client.js';
