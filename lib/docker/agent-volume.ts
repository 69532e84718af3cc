/**
 * The agent's volume, shared by every sandbox and payload container a gateway process
 * starts and mounted read-only in each: created and filled once per process (per
 * instance and agent digest), on first use, so a container costs no more than its own
 * create and start.
 *
 * Why a loader container: the engine refuses putArchive into a read-only mount
 * ("mounted volume is marked read-only", checked on 20.10), so the agent goes in through
 * a container that mounts the volume writable and is never started (putArchive into a
 * created container's volume works), then removed.
 *
 * Lifecycle: the name carries the digest of the agent's files and a random suffix, so a
 * process never serves another's (possibly half-filled, possibly older) volume; a failed
 * fill is removed and the next use fills again. Sandboxes outlive the gateway and keep
 * the volume of the process that started them, so a volume is removed only where no
 * container uses it: the engine refuses to remove a volume any container (even a stopped
 * one) mounts, and that refusal means "keep", never an error. The gateway removes older
 * ones at reconciliation and on every sweep (`prune`), and its own too at close (`release`).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { SlipwayError } from '../errors.js';
import { agentVolumeLabels, LABEL_INSTANCE, LABEL_KIND } from '../labels.js';
import { packFiles } from '../payload-files.js';
import type { FileEntry, LabelSelector, SandboxSpec } from '../runtime/container-runtime.js';
import type { DockerClient } from './docker-client.js';

export class AgentVolumes {
  /** This process's fills, by instance and digest: pending, or the filled volume's name. */
  private readonly fills = new Map<string, Promise<string>>();
  /** Names this process created (a pending fill's included): never pruned while it runs. */
  private readonly own = new Set<string>();
  /** Digests by the agent's file list (lib/sandboxes/agent.ts reads it once, so one hash per process). */
  private readonly digests = new WeakMap<FileEntry[], string>();

  constructor(
    private readonly docker: DockerClient,
    private readonly log: Logger,
  ) {}

  /**
   * The name of the filled volume for the spec's instance and agent. Concurrent first uses
   * share one fill; a use that joined a fill which failed (its image missing, say) fills again.
   */
  ensure(spec: SandboxSpec): Promise<string> {
    const instance = spec.labels[LABEL_INSTANCE] ?? '';
    const digest = this.digestOf(spec.agent.files);
    const key = `${instance}\0${digest}`;
    const shared = this.fills.get(key);
    const fill = () => this.fills.get(key) ?? this.startFill(key, instance, digest, spec);
    return shared ? shared.catch(fill) : fill();
  }

  /**
   * Gateway close: the agent volumes carrying `labels` (this process's and older ones)
   * that no container uses; a live sandbox's stays for its life, a later process removes it.
   */
  async release(labels: LabelSelector): Promise<string[]> {
    await Promise.allSettled([...this.fills.values()]);
    this.fills.clear();
    this.own.clear();
    return this.prune(labels);
  }

  /** The agent volumes carrying `labels` that no container uses, except this process's; answers the names removed. */
  async prune(labels: LabelSelector): Promise<string[]> {
    const filter = [...Object.entries(labels).map(([k, v]) => `${k}=${v}`), `${LABEL_KIND}=agent`];
    const removed: string[] = [];
    for (const volume of await this.docker.listVolumes({ label: filter })) {
      if (!this.own.has(volume.Name) && (await this.removeIfUnused(volume.Name))) removed.push(volume.Name);
    }
    return removed;
  }

  private startFill(key: string, instance: string, digest: string, spec: SandboxSpec): Promise<string> {
    const name = `slipway-agent-${digest.slice(0, 12)}-${randomBytes(4).toString('hex')}`;
    this.own.add(name);
    const fill = this.fill(name, instance, digest, spec).catch(async (err: unknown) => {
      if (this.fills.get(key) === fill) this.fills.delete(key);
      // Never reused once a fill failed: removed here, or by a later sweep.
      this.own.delete(name);
      await this.removeIfUnused(name);
      throw err;
    });
    this.fills.set(key, fill);
    return fill;
  }

  private async fill(name: string, instance: string, digest: string, spec: SandboxSpec): Promise<string> {
    await this.docker.createVolume(name, agentVolumeLabels(instance, digest));
    const loader = await this.docker.createContainer({
      Image: spec.image,
      Entrypoint: spec.keepAlive.slice(0, 1),
      Labels: agentVolumeLabels(instance, digest),
      NetworkDisabled: true,
      HostConfig: { Mounts: [{ Type: 'volume', Source: name, Target: spec.agent.dir, ReadOnly: false }], CapDrop: ['ALL'] },
    });
    try {
      await this.docker.putArchive(loader, await packFiles(spec.agent.files), spec.agent.dir);
    } finally {
      await this.docker.remove(loader);
    }
    this.log.info({ volume: name }, 'agent volume filled');
    return name;
  }

  /** Whether the volume is gone now: in use (409) is kept quietly, a missing one is gone, other failures are logged. */
  private async removeIfUnused(name: string): Promise<boolean> {
    try {
      await this.docker.removeVolume(name);
      return true;
    } catch (err) {
      if (err instanceof SlipwayError && err.code === 'SLIPWAY_ERR_CONFLICT') return false;
      if ((err as { cause?: { statusCode?: number } }).cause?.statusCode === 404) return true;
      this.log.warn({ volume: name, err: String(err) }, 'agent volume removal failed');
      return false;
    }
  }

  private digestOf(files: FileEntry[]): string {
    let digest = this.digests.get(files);
    if (!digest) {
      const hash = createHash('sha256');
      for (const f of files) hash.update(`${f.path}\0${f.mode}\0${f.content.length}\0`).update(f.content);
      digest = hash.digest('hex');
      this.digests.set(files, digest);
    }
    return digest;
  }
}
