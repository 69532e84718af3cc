/**
 * A run's payload files as Swarm configs: one labelled config per file, mounted read-only
 * (root-owned, the file's mode) at its path under the run's directory. Swarm keeps
 * configs in the managers' Raft store, so they are bounded well below the gateway's own
 * payload bound, and removed with the run.
 */
import { posix } from 'node:path';
import { invalidInput } from '../errors.js';
import { unsupported } from '../runtime/capabilities.js';
import type { RunFiles } from '../runtime/container-runtime.js';
import type { ConfigMount } from './service-spec.js';
import type { SwarmClient } from './swarm-client.js';

/** Swarm refuses a config of 1000 KiB or more; all of a run's files together stay under this. */
export const MAX_SWARM_PAYLOAD_BYTES = 1_000_000;

/** Refuses, before anything is created, what configs cannot carry. */
export function checkPayload(files: RunFiles | undefined, backend: string): void {
  if (!files) return;
  // A packed tar is a repository build's context: builds are not this backend's.
  if (files.tar) throw unsupported(backend, 'build', 'repo_url');
  const total = files.entries.reduce((sum, f) => sum + f.content.length, 0);
  if (total >= MAX_SWARM_PAYLOAD_BYTES) {
    throw invalidInput('files', `payload files total ${total} bytes; the ${backend} backend carries them as Swarm configs, under ${MAX_SWARM_PAYLOAD_BYTES} bytes in all`);
  }
}

/** Creates one config per file; on a failure, removes the ones already made and throws. */
export async function createPayloadConfigs(client: SwarmClient, runId: string, files: RunFiles | undefined, labels: Record<string, string>): Promise<ConfigMount[]> {
  const made: ConfigMount[] = [];
  try {
    for (const [i, file] of (files?.entries ?? []).entries()) {
      const name = `slipway-${runId}-${i}`;
      const id = await client.createConfig(name, labels, file.content);
      made.push({ id, name, target: posix.join(files!.dir, file.path), mode: file.mode });
    }
    return made;
  } catch (err) {
    await removeConfigs(client, made.map((c) => c.id));
    throw err;
  }
}

/** Best effort: a config still referenced by a service being removed is retried briefly. */
export async function removeConfigs(client: SwarmClient, ids: string[], tries = 20): Promise<string[]> {
  const failed: string[] = [];
  for (const id of ids) {
    for (let attempt = 1; ; attempt++) {
      try {
        await client.removeConfig(id);
        break;
      } catch {
        if (attempt >= tries) {
          failed.push(id);
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  return failed;
}
