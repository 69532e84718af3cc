/**
 * Label names Slipway puts on everything it creates on the engine (containers,
 * volumes, image builds). Listing, stopping, reconciling and leak checks all find
 * Slipway's own objects through these, so they are declared here and nowhere else.
 */
export const LABEL_MANAGED = 'io.slipway.managed';
export const LABEL_INSTANCE = 'io.slipway.instance';
export const LABEL_RUN_ID = 'io.slipway.run-id';
export const LABEL_KIND = 'io.slipway.kind';
/** The token name that started the run, where tokens are in use. */
export const LABEL_OWNER = 'io.slipway.owner';

export type RunKind = 'image' | 'payload' | 'repo' | 'exec';

/**
 * On a payload run's container whose main process is the agent's keep-alive (the program
 * is an exec in it): a restarted gateway cannot follow such a run, only end it.
 */
export const LABEL_AGENT = 'io.slipway.agent';

/** On a sandbox's container. */
export const LABEL_SANDBOX_ID = 'io.slipway.sandbox-id';

/**
 * The labels of one sandbox's container: kind `sandbox`, its id as both the
 * sandbox id and the run id (so run reconciliation and storage pruning can be told to keep it).
 */
export function sandboxLabels(instance: string, sandboxId: string, owner: string | null): Record<string, string> {
  return { ...runLabels(instance, sandboxId, 'exec', owner), [LABEL_KIND]: 'sandbox', [LABEL_SANDBOX_ID]: sandboxId };
}

/**
 * On the agent volume a gateway process shares between its sandboxes and payload runs
 * (kind `agent`, no run id): a digest of the agent's files, so a changed agent is never
 * served from a volume filled with the old one.
 */
export const LABEL_AGENT_DIGEST = 'io.slipway.agent-digest';

/** The labels of a shared agent volume. */
export function agentVolumeLabels(instance: string, digest: string): Record<string, string> {
  return { ...ownedLabels(instance), [LABEL_KIND]: 'agent', [LABEL_AGENT_DIGEST]: digest };
}

/** On a warm pool's container: the SLIPWAY_POOL key it was made for. */
export const LABEL_POOL = 'io.slipway.pool';

/**
 * The labels of a warm pool's container: those of the sandbox it will become, id assigned
 * ahead of time (labels cannot change after create, so the claimed container already
 * carries its sandbox's id), with kind `pool` and no owner: the sandbox record in SQLite
 * says whose it is once claimed.
 */
export function poolLabels(instance: string, sandboxId: string, poolKey: string): Record<string, string> {
  return { ...sandboxLabels(instance, sandboxId, null), [LABEL_KIND]: 'pool', [LABEL_POOL]: poolKey };
}

/** The labels of one run's container and volume. */
export function runLabels(instance: string, runId: string, kind: RunKind, owner: string | null = null): Record<string, string> {
  return {
    [LABEL_MANAGED]: 'true',
    [LABEL_INSTANCE]: instance,
    [LABEL_RUN_ID]: runId,
    [LABEL_KIND]: kind,
    ...(owner ? { [LABEL_OWNER]: owner } : {}),
  };
}

/** The labels every object of this Slipway instance carries (a ContainerRuntime label selector). */
export function ownedLabels(instance: string): Record<string, string> {
  return { [LABEL_MANAGED]: 'true', [LABEL_INSTANCE]: instance };
}

/** On images built from a repository: where from, which commit, and the cache key of the build inputs. */
export const LABEL_REPO = 'io.slipway.repo';
export const LABEL_COMMIT = 'io.slipway.commit';
export const LABEL_CACHE_KEY = 'io.slipway.cache-key';

/** The labels of an image built from a repository (kind `repo`, no run id: the image outlives runs). */
export function buildLabels(instance: string, repo: string, commit: string, cacheKey: string): Record<string, string> {
  return {
    [LABEL_MANAGED]: 'true',
    [LABEL_INSTANCE]: instance,
    [LABEL_KIND]: 'repo',
    [LABEL_REPO]: repo,
    [LABEL_COMMIT]: commit,
    [LABEL_CACHE_KEY]: cacheKey,
  };
}

/** On everything a build creates: `step` on step containers, `layer` on committed step images. */
export const LABEL_BUILD = 'io.slipway.build';
/** On a committed step image: the step's cache key (parent, instruction, config, content). */
export const LABEL_BUILD_STEP = 'io.slipway.build-step';
/** On a committed step image: bytes its step wrote, counted against the owner's cache budget. */
export const LABEL_LAYER_BYTES = 'io.slipway.layer-bytes';
/** On a final build image: the engine images its build read (JSON list), checked against a caller's allow-list on a cache hit. */
export const LABEL_BUILD_IMAGES = 'io.slipway.build-images';
