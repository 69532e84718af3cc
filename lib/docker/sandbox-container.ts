/**
 * A sandbox's container on Docker: the hardened create body of a run (container-spec.ts),
 * plus a size-bounded tmpfs workspace owned by the sandbox user and a small labelled
 * volume holding the agent, mounted read-only.
 *
 * Why a volume and a loader container: the root is read-only, a tmpfs is mounted only at
 * start (files put there before vanish), and the engine refuses putArchive into a
 * read-only mount ("mounted volume is marked read-only", checked on 20.10). So the agent
 * goes into its volume through a second container that mounts it writable and is never
 * started (putArchive into a created container's volume works), then removed; the sandbox
 * mounts the same volume read-only, so nothing in the sandbox can replace its agent.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { packFiles } from '../payload-files.js';
import type { LabelSelector, SandboxSpec } from '../runtime/container-runtime.js';
import { buildContainerSpec } from './container-spec.js';
import type { DockerClient, EngineContainer } from './docker-client.js';
import { FLAVOUR_FACTS, type EngineIdentity } from './engine-flavour.js';

export async function startSandboxContainer(
  docker: DockerClient,
  spec: SandboxSpec,
  settings: { stopGraceSeconds: number; runtime?: string | undefined },
  engine: EngineIdentity,
  log: Logger,
): Promise<string> {
  const volume = `slipway-sbx-${spec.sandboxId}-${randomBytes(4).toString('hex')}`;
  const [uid = '', gid] = spec.user.split(':');
  const owner = (await engine.facts().catch(() => FLAVOUR_FACTS.docker)).tmpfsOwner(uid, gid ?? uid);
  let container: EngineContainer | undefined;
  try {
    await docker.createVolume(volume, spec.labels);
    await loadAgent(docker, spec, volume);
    const image = await docker.inspectImage(spec.image);
    container = await docker.createContainer(
      buildContainerSpec({
        name: `slipway-sbx-${spec.sandboxId}`,
        image: spec.image,
        // The agent, not the image, keeps the container up: images need neither a shell nor sleep.
        entrypoint: spec.keepAlive.slice(0, 1),
        cmd: spec.keepAlive.slice(1),
        env: spec.env,
        workingDir: spec.workingDir,
        // Not the sandbox user: execs carry their own User (docker-exec.ts), and without
        // CAP_KILL they cannot signal a process of another uid, so `kill -9 -1` in an exec
        // cannot stop the keep-alive, and with it the container.
        user: spec.keepAliveUser,
        labels: spec.labels,
        limits: spec.limits,
        openStdin: false,
        stopGraceSeconds: settings.stopGraceSeconds,
        runtime: spec.runtime ?? settings.runtime,
        imageVolumes: Object.keys(image?.Config?.Volumes ?? {}).filter((path) => path !== spec.workspace.dir),
        volume: { name: volume, target: spec.agent.dir, readOnly: true },
        // Owned by the sandbox user, private to it, bounded; nosuid/nodev as every writable place.
        extraTmpfs: { [spec.workspace.dir]: `rw,${spec.workspace.exec ? 'exec,' : ''}nosuid,nodev,size=${spec.workspace.sizeBytes},${owner},mode=0700` },
      }),
    );
    await docker.start(container);
    return container.id;
  } catch (err) {
    if (container) await docker.remove(container).catch((e) => log.warn({ container: container!.id, err: String(e) }, 'container removal failed'));
    await docker.removeVolume(volume).catch((e) => log.warn({ volume, err: String(e) }, 'volume removal failed'));
    throw err;
  }
}

/** Fills the agent volume through a created, never started container that mounts it writable. */
async function loadAgent(docker: DockerClient, spec: SandboxSpec, volume: string): Promise<void> {
  const loader = await docker.createContainer({
    Image: spec.image,
    Entrypoint: spec.keepAlive.slice(0, 1),
    Labels: spec.labels,
    NetworkDisabled: true,
    HostConfig: { Mounts: [{ Type: 'volume', Source: volume, Target: spec.agent.dir, ReadOnly: false }], CapDrop: ['ALL'] },
  });
  try {
    await docker.putArchive(loader, await packFiles(spec.agent.files), spec.agent.dir);
  } finally {
    await docker.remove(loader);
  }
}

/** Every container, then every volume, of one sandbox. */
export async function removeSandboxObjects(docker: DockerClient, labels: LabelSelector): Promise<void> {
  const filter = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
  for (const c of await docker.listContainers(filter)) await docker.remove(docker.container(c.Id));
  for (const v of await docker.listVolumes(filter)) await docker.removeVolume(v.Name);
}
