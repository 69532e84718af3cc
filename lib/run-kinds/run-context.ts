/**
 * What every kind of run (image-run.ts, payload-run.ts, repo-run.ts) needs to turn a
 * validated request into a RunPlan, and the steps they share: pulling the image with
 * events, the container of an image, the labels, the stdin check.
 */
import type { Logger } from 'pino';
import type { ActiveRuns } from '../active-runs.js';
import type { Caller } from '../caller.js';
import type { Images, PullPolicy } from '../images.js';
import { runLabels, type RunKind } from '../labels.js';
import type { LanguagePreset } from '../language-presets.js';
import type { ResolvedLimits } from '../policy.js';
import type { RepoBuildSettings } from '../repo-build.js';
import type { RunEvent } from '../run-events.js';
import { requireCapability } from '../runtime/capabilities.js';
import type { ContainerRuntime, RunSpec } from '../runtime/container-runtime.js';
import type { PayloadWorkspaceDeps } from './payload-workspace.js';

/** Built once by the Slipway facade (lib/slipway.ts) and handed to every run kind. */
export interface RunKindContext extends PayloadWorkspaceDeps {
  runtime: ContainerRuntime;
  images: Images;
  /** Where a live run registers its stop handle, so stop_container and cancel reach it. */
  activeRuns: ActiveRuns;
  instance: string;
  log: Logger;
  presets: Record<string, LanguagePreset>;
  payloadUser: string;
  repoBuild: RepoBuildSettings;
}

/** The run-control fields (schemas/common.ts RunControl) as they arrive with any run input. */
export interface RunControlInput {
  wait?: boolean | undefined;
  idempotency_key?: string | undefined;
}

/**
 * The part of a request that says what to run: how to wait and the retry key are not
 * part of it, so a retry that only changes them is still the same request.
 */
export function withoutRunControl<T extends RunControlInput>(input: T): Omit<T, keyof RunControlInput> {
  const { wait: _wait, idempotency_key: _key, ...rest } = input;
  return rest;
}

/**
 * A backend without stdin (Swarm) refuses a run that has some, and one that cannot place
 * runs refuses a caller whose policy places them, before anything is queued.
 */
export function requireBackendSupport(ctx: RunKindContext, stdin: string | undefined, caller: Caller): void {
  if (stdin !== undefined) requireCapability(ctx.runtime, 'stdin', 'stdin');
  if (caller.policy.placement?.length) requireCapability(ctx.runtime, 'placement');
}

export function labelsOf(ctx: RunKindContext, runId: string, kind: RunKind, caller: Caller): Record<string, string> {
  return runLabels(ctx.instance, runId, kind, caller.name);
}

/** Makes `image` present by its pull policy; a pull shows as the `pulling` status and progress events. */
export async function ensureImage(ctx: RunKindContext, image: string, policy: PullPolicy | undefined, emit: (event: RunEvent) => void, signal: AbortSignal): Promise<void> {
  let announced = false;
  await ctx.images.ensure(image, policy ?? 'missing', (progress) => {
    if (!announced) emit({ type: 'status', status: 'pulling' });
    announced = true;
    emit({ type: 'pull', progress });
  }, signal);
}

/** The container of an image or repo run: the caller's command, environment and user in `image`. */
export function imageContainer(
  ctx: RunKindContext,
  runId: string,
  kind: RunKind,
  image: string,
  input: { environment?: Record<string, string> | undefined; working_dir?: string | undefined; user?: string | undefined; stdin?: string | undefined },
  argv: { cmd: string[] | undefined; entrypoint: string[] | undefined },
  limits: ResolvedLimits,
  caller: Caller,
): RunSpec {
  return {
    runId,
    image,
    ...argv,
    env: input.environment,
    workingDir: input.working_dir,
    user: input.user,
    labels: labelsOf(ctx, runId, kind, caller),
    limits,
    stdin: input.stdin,
    runtime: caller.policy.runtime,
    placement: caller.policy.placement,
  };
}
