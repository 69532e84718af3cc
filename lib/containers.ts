/**
 * list_running_containers and stop_container. Both see only this instance's
 * containers, and a token's only its own, unless its policy says otherwise; a
 * container outside that view is "not found", so callers learn nothing of the host.
 */
import type { ActiveRuns } from './active-runs.js';
import { ownerFilter, type Caller } from './caller.js';
import type { DockerClient } from './docker-client.js';
import { policyDenied, SlipwayError } from './errors.js';
import { LABEL_INSTANCE, LABEL_MANAGED, LABEL_OWNER, LABEL_RUN_ID, ownedFilter } from './labels.js';
import type { RunManager } from './runs.js';
import type { ListContainersInput, ListContainersResult, StopContainerInput, StopContainerResult } from '../schemas/containers.js';

const DEFAULT_STOP_GRACE_SECONDS = 10;

export async function listContainers(docker: DockerClient, instance: string, input: ListContainersInput, caller: Caller): Promise<ListContainersResult> {
  if (input.all_engine && !caller.policy.manageAllContainers) {
    throw policyDenied('all_engine', 'listing containers Slipway did not create is not allowed by the server');
  }
  const filters: Record<string, string[]> = input.all_engine ? {} : ownedFilter(instance);
  if (!input.all_engine && !caller.seesAll) filters.label!.push(`${LABEL_OWNER}=${caller.name}`);
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

export interface StopDeps {
  docker: DockerClient;
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
  const notFound = (): SlipwayError => new SlipwayError('SLIPWAY_ERR_CONTAINER_NOT_FOUND', `no Slipway container ${input.container_id}`, { field: 'container_id' });
  const target = containerOfRun(deps.runs, input.container_id, caller);
  const info = await deps.docker.inspect(target).catch((err: unknown) => {
    throw err instanceof SlipwayError && err.code === 'SLIPWAY_ERR_CONTAINER_NOT_FOUND' ? notFound() : err;
  });
  const labels = info.Config.Labels ?? {};
  const ours = labels[LABEL_MANAGED] === 'true' && labels[LABEL_INSTANCE] === deps.instance;
  const callers = caller.seesAll || labels[LABEL_OWNER] === caller.name;
  if (!caller.policy.manageAllContainers && !(ours && callers)) throw notFound();
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
