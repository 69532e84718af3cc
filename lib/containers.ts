/**
 * list_running_containers and stop_container. Both see only this instance's
 * containers, and a token's only its own, unless its policy says otherwise; a
 * container outside that view is "not found", so callers learn nothing of the host.
 */
import type { ActiveRuns } from './active-runs.js';
import { ownerFilter, type Caller } from './caller.js';
import { policyDenied, SlipwayError } from './errors.js';
import { LABEL_OWNER, LABEL_RUN_ID, ownedLabels } from './labels.js';
import type { RunManager } from './runs.js';
import type { ContainerRuntime, ContainerSummary } from './runtime/container-runtime.js';
import type { ListContainersInput, ListContainersResult, StopContainerInput, StopContainerResult } from '../schemas/containers.js';

const DEFAULT_STOP_GRACE_SECONDS = 10;

/** The containers a caller may see: this instance's and its own, or every one on the engine. */
function visibleContainers(runtime: ContainerRuntime, instance: string, caller: Caller, allEngine: boolean, state?: ListContainersInput['state']): Promise<ContainerSummary[]> {
  if (allEngine) return runtime.listAll({ state });
  const labels = ownedLabels(instance);
  if (!caller.seesAll) labels[LABEL_OWNER] = caller.name ?? '';
  return runtime.list(labels, { state });
}

export async function listContainers(runtime: ContainerRuntime, instance: string, input: ListContainersInput, caller: Caller): Promise<ListContainersResult> {
  if (input.all_engine && !caller.policy.manageAllContainers) {
    throw policyDenied('all_engine', 'listing containers Slipway did not create is not allowed by the server');
  }
  const containers = await visibleContainers(runtime, instance, caller, input.all_engine ?? false, input.state);
  return {
    containers: containers.map((c) => ({
      id: c.id,
      name: c.name,
      image: c.image,
      state: c.state,
      status: c.status,
      created: c.createdAt.toISOString(),
      run_id: c.labels[LABEL_RUN_ID] ?? null,
      labels: c.labels,
    })),
  };
}

const containerNotFound = (ref: string): SlipwayError =>
  new SlipwayError('SLIPWAY_ERR_CONTAINER_NOT_FOUND', `no Slipway container ${ref}`, { field: 'container_id' });

/**
 * The full id of the container `ref` names among those the caller may see: an exact id,
 * an exact name, or an id prefix matching exactly one of them. The engine is never asked
 * to resolve a caller's text itself, since its answers speak of every container on it
 * ("multiple IDs found with provided prefix"): a prefix shared only with others'
 * containers, an ambiguous one and an unknown one are all the same 404.
 */
async function resolveContainer(deps: StopDeps, ref: string, caller: Caller): Promise<string> {
  const visible = await visibleContainers(deps.runtime, deps.instance, caller, caller.policy.manageAllContainers);
  const exact = visible.find((c) => c.id === ref) ?? visible.find((c) => c.name === ref);
  if (exact) return exact.id;
  const byPrefix = visible.filter((c) => c.id.startsWith(ref));
  if (byPrefix.length !== 1) throw containerNotFound(ref);
  return byPrefix[0]!.id;
}

export interface StopDeps {
  runtime: ContainerRuntime;
  instance: string;
  activeRuns: ActiveRuns;
  runs: RunManager;
}

/** A run id of the caller's names that run's container; anything else is taken as a container id or name. */
function containerOfRun(runs: RunManager, value: string, caller: Caller): string {
  if (!RUN_ID.test(value)) return value;
  let run;
  try {
    run = runs.get(value, ownerFilter(caller));
  } catch {
    return value;
  }
  if (run.container_id) return run.container_id;
  throw new SlipwayError('SLIPWAY_ERR_CONTAINER_NOT_FOUND', `run ${value} has no container (it is ${run.status}); cancel_run stops a run before its container starts`, { field: 'container_id' });
}
const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export async function stopContainer(deps: StopDeps, input: StopContainerInput, caller: Caller): Promise<StopContainerResult> {
  const id = await resolveContainer(deps, containerOfRun(deps.runs, input.container_id, caller), caller);
  const info = await deps.runtime.inspect(id).catch((err: unknown) => {
    throw err instanceof SlipwayError && err.code === 'SLIPWAY_ERR_CONTAINER_NOT_FOUND' ? containerNotFound(input.container_id) : err;
  });
  const labels = info.labels;
  const grace = input.timeout ?? DEFAULT_STOP_GRACE_SECONDS;
  const wasRunning = info.running;
  const run = deps.activeRuns.byContainer(info.id);
  if (run) {
    await run.stop('cancelled', grace);
    // Answer once the run's record says `cancelled`, so a look-up right after agrees.
    await deps.runs.completion(run.runId);
  } else if (wasRunning) {
    await deps.runtime.stop(info.id, grace);
  }
  return { success: true, container_id: info.id, was_running: wasRunning, run_id: labels[LABEL_RUN_ID] ?? null };
}
