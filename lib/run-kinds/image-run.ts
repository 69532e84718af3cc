/** execute_docker_container: an image the caller names, run with its command, environment and user. */
import { assertImageAllowed, type Caller } from '../caller.js';
import { toArgv } from '../command-line.js';
import { resolveLimits } from '../policy.js';
import type { RunPlan } from '../runs.js';
import type { ContainerRunInput } from '../../schemas/container-run.js';
import { ensureImage, imageContainer, requireBackendSupport, withoutRunControl, type RunControlInput, type RunKindContext } from './run-context.js';

/** Checks the request (policy, stdin, limits, argv) and answers its plan; nothing is queued yet. */
export function imageRunPlan(ctx: RunKindContext, input: ContainerRunInput & RunControlInput, caller: Caller): RunPlan {
  assertImageAllowed(input.image, caller.policy);
  requireBackendSupport(ctx, input.stdin, caller);
  const limits = resolveLimits(input, caller.policy);
  const cmd = toArgv(input.command, 'command');
  const entrypoint = toArgv(input.entrypoint, 'entrypoint');
  return {
    kind: 'image',
    image: input.image,
    timeoutMs: limits.timeoutMs,
    request: withoutRunControl(input),
    execute: async ({ runId, signal, emit }) => {
      await ensureImage(ctx, input.image, input.pull_policy, emit, signal);
      const spec = imageContainer(ctx, runId, 'image', input.image, input, { cmd, entrypoint }, limits, caller);
      return { result: await ctx.runtime.run(spec, { signal, onEvent: emit, active: ctx.activeRuns }) };
    },
  };
}
