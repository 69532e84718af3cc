/**
 * list_running_containers and stop_container. Both see only this instance's
 * containers, and a token's only its own, unless its policy says otherwise; a
 * container outside that view is "not found", so callers learn nothing of the host.
 */
import type { ActiveRuns } from './active-runs.js';
import type { Caller } from './caller.js';
import { policyDenied, SlipwayError } from './errors.js';
import { LABEL_INSTANCE, LABEL_MANAGED, LABEL_OWNER, LABEL_RUN_ID, ownedLabels } from './labels.js';
import type { RunManager } from './runs.js';
import type { ContainerRuntime } from './runtime/container-runtime.js';
import type { ListContainersInput, ListContainersResult, StopContainerInput, StopContainerResult } from '../schemas/containers.js';

const DEFAULT_STOP_GRACE_SECONDS = 10;

export async function listContainers(runtime: ContainerRuntime, instance: string, input: ListContainersInput, caller: Caller): Promise<ListContainersResult> {
  if (input.all_engine && !caller.policy.manageAllContainers) {
    throw policyDenied('all_engine', 'listing containers Slipway did not create is not allowed by the server');
  }
  const labels = ownedLabels(instance);
  if (!caller.seesAll) labels[LABEL_OWNER] = caller.name ?? '';
  const filter = { state: input.state };
  const containers = input.all_engine ? await runtime.listAll(filter) : await runtime.list(labels, filter);
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

export interface StopDeps {
  runtime: ContainerRuntime;
  instance: string;
  activeRuns: ActiveRuns;
  runs: RunManager;
}

export async function stopContainer(deps: StopDeps, input: StopContainerInput, caller: Caller): Promise<StopContainerResult> {
  const notFound = (): SlipwayError => new SlipwayError('SLIPWAY_ERR_CONTAINER_NOT_FOUND', `no Slipway container ${input.container_id}`, { field: 'container_id' });
  const info = await deps.runtime.inspect(input.container_id).catch((err: unknown) => {
    throw err instanceof SlipwayError && err.code === 'SLIPWAY_ERR_CONTAINER_NOT_FOUND' ? notFound() : err;
  });
  const labels = info.labels;
  const ours = labels[LABEL_MANAGED] === 'true' && labels[LABEL_INSTANCE] === deps.instance;
  const callers = caller.seesAll || labels[LABEL_OWNER] === caller.name;
  if (!caller.policy.manageAllContainers && !(ours && callers)) throw notFound();
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
