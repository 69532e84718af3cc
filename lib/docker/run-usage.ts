/**
 * Where a Docker run's resource usage comes from: the host's cgroup files when this
 * process can read the engine's (exact for any run length, ./cgroup-usage.ts), else
 * the engine's stats stream (about one sample a second, ./usage-sampler.ts). Either
 * way the record gets figures, or null and a sentence saying why.
 */
import type { Logger } from 'pino';
import type { ResourceUsage } from '../../schemas/run-result.js';
import { probeCgroups, readRunUsage, removeRunCgroup, runCgroupParent, sweepRunCgroups, type CgroupProbe } from './cgroup-usage.js';
import type { DockerClient, EngineContainer } from './docker-client.js';
import type { EngineIdentity } from './engine-flavour.js';
import { UsageSampler } from './usage-sampler.js';

export interface UsageReading {
  resource_usage: ResourceUsage | null;
  /** Why `resource_usage` is null; null when it is not. */
  resource_usage_unavailable: string | null;
}

/** One run's usage: `final` once the process has exited, `stop` always. */
export interface RunUsage {
  final(): Promise<UsageReading>;
  stop(): void;
}

export class RunCgroups {
  private probing: Promise<CgroupProbe> | undefined;

  constructor(
    private readonly docker: DockerClient,
    private readonly engine: EngineIdentity,
    /** The engine is reached on a unix socket, so it runs on this host. */
    private readonly local: boolean,
    private readonly log: Logger,
  ) {}

  /** Asked of the engine once (`GET /info`); an engine that did not answer is asked again next time. */
  probe(): Promise<CgroupProbe> {
    this.probing ??= (async () => {
      if (!this.local) return probeCgroups({ local: false, flavour: 'docker' });
      const [info, flavour] = await Promise.all([this.docker.cgroupInfo(), this.engine.flavour()]);
      const probe = await probeCgroups({ local: this.local, flavour, cgroupDriver: info.CgroupDriver, cgroupVersion: info.CgroupVersion });
      if (probe.version) {
        this.log.debug({ cgroup: probe.version }, 'run usage from the host cgroup files');
        // Once per process: what an earlier gateway (of any instance on this host) left behind.
        void sweepRunCgroups(probe.version, probe.root, this.log).then(
          (n) => n > 0 && this.log.info({ removed: n }, 'removed run cgroups left behind'),
          (err: unknown) => this.log.warn({ err: String(err) }, 'run cgroup sweep failed'),
        );
      } else this.log.info({ reason: probe.reason }, 'run usage from the engine stats (about one sample a second): host cgroup files not usable');
      return probe;
    })().catch((err: unknown) => {
      this.probing = undefined;
      return { version: null, reason: `the engine did not say its cgroup setup (${String(err)})` };
    });
    return this.probing;
  }

  /** The cgroup parent to create the run's container under, or undefined to leave it to the engine. */
  async parentFor(runId: string): Promise<string | undefined> {
    return (await this.probe()).version ? runCgroupParent(runId) : undefined;
  }

  /**
   * Watches one started container. `underParent` says it was created under the run's
   * own cgroup parent; otherwise (no cgroup access, or an older gateway created it) the
   * engine's samples are all there is.
   */
  async watch(runId: string, container: EngineContainer, underParent: boolean): Promise<RunUsage> {
    const probe = await this.probe();
    if (probe.version && underParent) {
      const { version, root } = probe;
      return {
        final: async () => {
          const usage = await readRunUsage(version, root, runCgroupParent(runId)).catch((err: unknown) => {
            this.log.warn({ runId, err: String(err) }, 'run cgroup not readable');
            return null;
          });
          return usage ? { resource_usage: usage, resource_usage_unavailable: null } : { resource_usage: null, resource_usage_unavailable: "the run's cgroup was not found on this host" };
        },
        stop: () => {},
      };
    }
    const sampler = new UsageSampler(this.docker, container, this.log);
    const why = probe.version ? 'the container was created without a cgroup of its own' : probe.reason;
    return {
      final: async () => {
        const usage = sampler.usage();
        if (usage) return { resource_usage: usage, resource_usage_unavailable: null };
        return { resource_usage: null, resource_usage_unavailable: `the engine samples usage about once a second and the run ended before its first sample (exact figures need the host's cgroup files: ${why})` };
      },
      stop: () => sampler.stop(),
    };
  }

  /** Removes the run's cgroup parent, after its container is gone; never waited for. */
  release(runId: string): void {
    void this.probe()
      .then((probe) => (probe.version ? removeRunCgroup(probe.version, probe.root, runCgroupParent(runId), this.log) : undefined))
      .catch((err: unknown) => this.log.warn({ runId, err: String(err) }, 'run cgroup not removed'));
  }
}
