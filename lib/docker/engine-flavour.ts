/**
 * Which engine answers the Docker API: Docker itself, or Podman's compatible service.
 * The backend is the same code for both; these are the few facts where they differ
 * (TESTING.md, "Podman"), asked of the engine once per connection (`GET /version`;
 * Podman names itself among the components).
 */
import type { DockerClient } from './docker-client.js';

export type EngineFlavour = 'docker' | 'podman';

export interface FlavourFacts {
  /** What the engine calls itself in messages. */
  name: string;
  /** Sets `State.OOMKilled` or emits an `oom` event (Podman 4.3 does neither: exit 137 only). */
  reportsOom: boolean;
  /** The event names a container's removal comes as (Docker `destroy`, Podman `remove`). */
  removalEvents: string[];
  /**
   * The tmpfs options that let the sandbox user `uid:gid` (the user execs run as) write in
   * a workspace: Docker passes `uid=`/`gid=`/`mode=0700` to the kernel. Podman 4.3 refuses
   * `uid=`/`gid=` ("unknown mount option"), and its `U` gives the mount to the container's
   * user, which is the keep-alive's own uid, not the sandbox user's; so on Podman the mount
   * is world-writable with the sticky bit, where the only other uid is the keep-alive's,
   * which runs nothing but a sleep.
   */
  tmpfsAccess: (uid: string, gid: string) => string;
}

export const FLAVOUR_FACTS: Record<EngineFlavour, FlavourFacts> = {
  docker: { name: 'Docker', reportsOom: true, removalEvents: ['destroy'], tmpfsAccess: (uid, gid) => `uid=${uid},gid=${gid},mode=0700` },
  podman: { name: 'Podman', reportsOom: false, removalEvents: ['remove'], tmpfsAccess: () => 'mode=1777' },
};

export function flavourOf(version: { Components?: { Name?: string }[] | undefined }): EngineFlavour {
  return (version.Components ?? []).some((c) => /podman/i.test(c.Name ?? '')) ? 'podman' : 'docker';
}

/** The flavour of one engine connection, asked once and remembered; a failed ask is asked again next time. */
export class EngineIdentity {
  private asked: Promise<EngineFlavour> | undefined;
  /** Known once asked; until then the Docker defaults hold. */
  known: EngineFlavour | undefined;

  constructor(private readonly client: Pick<DockerClient, 'version'>) {}

  async flavour(): Promise<EngineFlavour> {
    this.asked ??= this.client.version().then(
      (v) => (this.known = flavourOf(v as { Components?: { Name?: string }[] })),
      (err: unknown) => {
        this.asked = undefined;
        throw err;
      },
    );
    return this.asked;
  }

  async facts(): Promise<FlavourFacts> {
    return FLAVOUR_FACTS[await this.flavour()];
  }
}
