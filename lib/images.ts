/**
 * Image presence and pulls. Registry credentials come only from the server's
 * configuration, matched by registry host; a caller can never supply them.
 */
import type { DockerClient } from './docker-client.js';
import { SlipwayError } from './errors.js';

export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress?: string;
}

export type PullPolicy = 'missing' | 'always' | 'never';

export interface PullProgress {
  status: string;
  id?: string;
  current?: number;
  total?: number;
}

/** `python` -> `python:latest`; references with a tag or digest are left as they are. */
export function withExplicitTag(ref: string): string {
  if (ref.includes('@')) return ref;
  const lastSlash = ref.lastIndexOf('/');
  return ref.slice(lastSlash + 1).includes(':') ? ref : `${ref}:latest`;
}

/** The registry host of a reference, as Docker decides it (`docker.io` when none is named). */
export function registryOf(ref: string): string {
  const first = ref.split('/')[0]!;
  const isHost = ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  return isHost ? first : 'docker.io';
}

export class Images {
  constructor(
    private readonly docker: DockerClient,
    private readonly auth: Record<string, RegistryAuth>,
  ) {}

  async pull(ref: string, onProgress: (p: PullProgress) => void = () => {}, signal?: AbortSignal): Promise<{ image: string; image_id: string; digest: string | null; pull_time: number }> {
    const image = withExplicitTag(ref);
    const started = performance.now();
    const credentials = this.auth[registryOf(image)];
    await this.docker.pull(image, credentials, (event) => {
      const detail = event.progressDetail as { current?: number; total?: number } | undefined;
      const progress: PullProgress = { status: String(event.status ?? '') };
      if (typeof event.id === 'string') progress.id = event.id;
      if (detail?.current !== undefined) progress.current = detail.current;
      if (detail?.total !== undefined) progress.total = detail.total;
      onProgress(progress);
    }, signal);
    const info = await this.docker.inspectImage(image);
    if (!info) throw new SlipwayError('SLIPWAY_ERR_IMAGE_NOT_FOUND', `image ${image} was not found after pulling`, { field: 'image' });
    const digest = info.RepoDigests?.[0]?.split('@')[1] ?? null;
    return { image, image_id: info.Id, digest, pull_time: (performance.now() - started) / 1000 };
  }

  /** Makes the image present according to the pull policy; says whether it pulled. */
  async ensure(ref: string, policy: PullPolicy, onProgress?: (p: PullProgress) => void, signal?: AbortSignal): Promise<boolean> {
    if (policy !== 'always' && (await this.docker.inspectImage(ref))) return false;
    if (policy === 'never') {
      throw new SlipwayError('SLIPWAY_ERR_IMAGE_NOT_FOUND', `image ${ref} is not present and pull_policy is never`, { field: 'image' });
    }
    await this.pull(ref, onProgress, signal);
    return true;
  }
}
