/**
 * A sandbox's container on Docker: the hardened create body of a run (container-spec.ts),
 * plus a size-bounded tmpfs workspace owned by the sandbox user and the process's shared
 * agent volume (agent-volume.ts), mounted read-only, so nothing in the sandbox can replace
 * its agent. Per container: image inspect, create, start; removal is the container only.
 */
import type { Logger } from 'pino';
import type { LabelSelector, SandboxSpec } from '../runtime/container-runtime.js';
import type { AgentVolumes } from './agent-volume.js';
import { buildContainerSpec } from './container-spec.js';
import type { DockerClient, EngineContainer } from './docker-client.js';
import { FLAVOUR_FACTS, type EngineIdentity } from './engine-flavour.js';

export async function startSandboxContainer(
  docker: DockerClient,
  spec: SandboxSpec,
  settings: { stopGraceSeconds: number; runtime?: string | undefined },
  engine: EngineIdentity,
  agentVolumes: AgentVolumes,
  log: Logger,
): Promise<string> {
  const [uid = '', gid] = spec.user.split(':');
  const access = (await engine.facts().catch(() => FLAVOUR_FACTS.docker)).tmpfsAccess(uid, gid ?? uid);
  let container: EngineContainer | undefined;
  try {
    const image = await docker.inspectImage(spec.image);
    const volume = await agentVolumes.ensure(spec);
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
        extraTmpfs: { [spec.workspace.dir]: `rw,${spec.workspace.exec ? 'exec,' : ''}nosuid,nodev,size=${spec.workspace.sizeBytes},${access}` },
      }),
    );
    await docker.start(container);
    return container.id;
  } catch (err) {
    if (container) await docker.remove(container).catch((e) => log.warn({ container: container!.id, err: String(e) }, 'container removal failed'));
    throw err;
  }
}

/** Every container of one sandbox (its agent volume is shared: agent-volume.ts removes it once unused). */
export async function removeSandboxObjects(docker: DockerClient, labels: LabelSelector): Promise<void> {
  const filter = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
  for (const c of await docker.listContainers(filter)) await docker.remove(docker.container(c.Id));
}
