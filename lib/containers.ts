/**
 * list_running_containers and stop_container. Both see only this instance's
 * containers, and a token's only its own, unless its policy says otherwise; a
 * container outside that view is "not found", so callers learn nothing of the host.
 */
import type { ActiveRuns } from './active-runs.js';
import type { Caller } from './caller.js';
import type { DockerClient } from './docker-client.js';
import { policyDenied, SlipwayError } from './errors.js';
import { LABEL_OWNER, LABEL_RUN_ID, ownedFilter } from './labels.js';
import type { RunManager } from './runs.js';
import type { ListContainersInput, ListContainersResult, StopContainerInput, StopContainerResult } from '../schemas/containers.js';

const DEFAULT_STOP_GRACE_SECONDS = 10;

/** The engine filter for the containers a caller may see: this instance's and its own, or every one. */
function visibleFilter(instance: string, caller: Caller, allEngine: boolean): Record<string, string[]> {
  if (allEngine) return {};
  const filters = ownedFilter(instance);
  if (!caller.seesAll) filters.label.push(`${LABEL_OWNER}=${caller.name}`);
  return filters;
}

export async function listContainers(docker: DockerClient, instance: string, input: ListContainersInput, caller: Caller): Promise<ListContainersResult> {
  if (input.all_engine && !caller.policy.manageAllContainers) {
    throw policyDenied('all_engine', 'listing containers Slipway did not create is not allowed by the server');
  }
  const filters = visibleFilter(instance, caller, input.all_engine ?? false);
  if (input.state) filters.status = [input.state];
  const containers = await docker.listContainers(filters);
  return {
    containers: containers.map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      image: c.Image,
      state: c.State,
      status: c.Status,
      created: new Date(c.Created * 1000).toISOString(),
      run_id: c.Labels[LABEL_RUN_ID] ?? null,
      labels: c.Labels,
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
  const visible = await deps.docker.listContainers(visibleFilter(deps.instance, caller, caller.policy.manageAllContainers));
  const exact = visible.find((c) => c.Id === ref) ?? visible.find((c) => c.Names.includes(`/${ref}`));
  if (exact) return exact.Id;
  const byPrefix = visible.filter((c) => c.Id.startsWith(ref));
  if (byPrefix.length !== 1) throw containerNotFound(ref);
  return byPrefix[0]!.Id;
}

export interface StopDeps {
  docker: DockerClient;
  instance: string;
  activeRuns: ActiveRuns;
  runs: RunManager;
}

export async function stopContainer(deps: StopDeps, input: StopContainerInput, caller: Caller): Promise<StopContainerResult> {
  const id = await resolveContainer(deps, input.container_id, caller);
  const info = await deps.docker.inspect(id).catch((err: unknown) => {
    throw err instanceof SlipwayError && err.code === 'SLIPWAY_ERR_CONTAINER_NOT_FOUND' ? containerNotFound(input.container_id) : err;
  });
  const labels = info.Config.Labels ?? {};
  const grace = input.timeout ?? DEFAULT_STOP_GRACE_SECONDS;
  const wasRunning = info.State.Running;
  const run = deps.activeRuns.byContainer(info.Id);
  if (run) {
    await run.stop('cancelled', grace);
    // Answer once the run's record says `cancelled`, so a look-up right after agrees.
    await deps.runs.completion(run.runId);
  } else if (wasRunning) {
    await deps.docker.stop(deps.docker.container(info.Id), grace);
  }
  return { success: true, container_id: info.Id, was_running: wasRunning, run_id: labels[LABEL_RUN_ID] ?? null };
}
