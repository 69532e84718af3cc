/**
 * Image presence and pulls. Registry credentials come only from the server's
 * configuration, matched by registry host; a caller can never supply them.
 */
import { SlipwayError } from './errors.js';
import { assertRegistryAllowed } from './registry-policy.js';
import type { Resolver } from './git-url-policy.js';
import { registryOf, withExplicitTag } from './image-ref.js';
import type { PullProgress } from './run-events.js';
import type { ContainerRuntime, RegistryAuth } from './runtime/container-runtime.js';

export type PullPolicy = 'missing' | 'always' | 'never';

export class Images {
  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly auth: Record<string, RegistryAuth>,
    /** SLIPWAY_REGISTRY_ALLOWED_HOSTS: registries allowed even at internal addresses (lib/registry-policy.ts). */
    private readonly allowedRegistries: readonly string[] = [],
    private readonly resolve?: Resolver,
  ) {}

  async pull(ref: string, onProgress: (p: PullProgress) => void = () => {}, signal?: AbortSignal): Promise<{ image: string; image_id: string; digest: string | null; pull_time: number }> {
    const image = withExplicitTag(ref);
    // Every pull passes here (pull_docker_image, runs that pull, payload images): the daemon
    // is sent to a registry only after its address is checked.
    await assertRegistryAllowed(image, this.allowedRegistries, this.resolve);
    signal?.throwIfAborted();
    const started = performance.now();
    const credentials = this.auth[registryOf(image)];
    // The backend's pull errors already say which image and why (cannot pull ..., not found).
    await this.runtime.pullImage(image, { auth: credentials, onProgress, signal });
    const info = await this.runtime.imageInfo(image);
    if (!info) throw new SlipwayError('SLIPWAY_ERR_IMAGE_NOT_FOUND', `image ${image} was not found after pulling`, { field: 'image' });
    return { image, image_id: info.id, digest: info.digest, pull_time: (performance.now() - started) / 1000 };
  }

  /** Makes the image present according to the pull policy; says whether it pulled. */
  async ensure(ref: string, policy: PullPolicy, onProgress?: (p: PullProgress) => void, signal?: AbortSignal): Promise<boolean> {
    if (policy !== 'always' && (await this.runtime.imageInfo(ref))) return false;
    if (policy === 'never') {
      throw new SlipwayError('SLIPWAY_ERR_IMAGE_NOT_FOUND', `image ${ref} is not present and pull_policy is never`, { field: 'image' });
    }
    await this.pull(ref, onProgress, signal);
    return true;
  }
}
