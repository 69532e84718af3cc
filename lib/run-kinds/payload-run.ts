/**
 * execute_with_payload: source code and files placed in a container, either of a
 * language preset (its image, file name and command) or of an image the caller names.
 * Where the backend can exec, the run happens in a container with the agent and a
 * writable, bounded /workspace (payload-workspace.ts), and can hand files back; else
 * (Swarm) the files go in read-only with the run's container, and nothing comes back.
 */
import { assertImageAllowed, type Caller } from '../caller.js';
import { toArgv } from '../command-line.js';
import { invalidInput } from '../errors.js';
import { presetOf } from '../language-presets.js';
import { payloadFiles, prepareFiles } from '../payload-files.js';
import { resolveLimits } from '../policy.js';
import type { RunPlan } from '../runs.js';
import { returnPatterns } from '../return-files.js';
import { requireCapability } from '../runtime/capabilities.js';
import type { PayloadRunInput } from '../../schemas/payload-run.js';
import { runPayloadInWorkspace } from './payload-workspace.js';
import { ensureImage, labelsOf, requireBackendSupport, withoutRunControl, type RunControlInput, type RunKindContext } from './run-context.js';

/** Where payload files are placed inside the container. */
export const PAYLOAD_DIR = '/workspace';

/** Checks the request (language or image, policy, stdin, files) and answers its plan; nothing is queued yet. */
export function payloadRunPlan(ctx: RunKindContext, input: PayloadRunInput & RunControlInput, caller: Caller): RunPlan {
  const preset = presetOf(ctx.presets, input.language);
  if (!preset && !input.image) throw invalidInput('language', 'either language or image is required');
  if (!preset && !input.command) throw invalidInput('command', 'command is required when no language is given');
  const image = input.image ?? preset!.image;
  assertImageAllowed(image, caller.policy, input.image ? 'image' : 'language');
  requireBackendSupport(ctx, input.stdin, caller);
  const limits = resolveLimits(input, caller.policy);
  const cmd = toArgv(input.command, 'command') ?? preset!.command;
  const { files, fieldOf } = payloadFiles(input, preset?.file);
  const entries = prepareFiles(files, fieldOf);
  // Without exec (Swarm) the files go in as the backend can (configs), read-only, and nothing comes back.
  const inWorkspace = ctx.runtime.capabilities.exec;
  if (input.return_files && !inWorkspace) requireCapability(ctx.runtime, 'exec', 'return_files');
  const patterns = returnPatterns(input.return_files ?? []);
  const env = preset?.env ? { ...preset.env, ...input.environment } : input.environment;
  return {
    kind: 'payload',
    image,
    timeoutMs: limits.timeoutMs,
    request: withoutRunControl(input),
    execute: async ({ runId, signal, emit }) => {
      await ensureImage(ctx, image, input.pull_policy, emit, signal);
      const labels = labelsOf(ctx, runId, 'payload', caller);
      if (inWorkspace) {
        // The container's environment is the preset's (a warm pool's containers have it); the run's own goes to the exec.
        const containerEnv = preset?.env ?? {};
        // A fresh pull asked for: a pooled container's image may be older than the one just pulled.
        const poolable = input.pull_policy !== 'always';
        const job = { image, cmd, env, containerEnv, poolable, stdin: input.stdin, entries, returnPatterns: patterns, labels, limits, runtime: caller.policy.runtime };
        return { result: await runPayloadInWorkspace(ctx, job, { runId, signal, emit }) };
      }
      const spec = {
        runId,
        image,
        cmd,
        env,
        workingDir: PAYLOAD_DIR,
        user: ctx.payloadUser,
        labels,
        limits,
        stdin: input.stdin,
        files: { entries, dir: PAYLOAD_DIR },
        runtime: caller.policy.runtime,
        placement: caller.policy.placement,
      };
      return { result: await ctx.runtime.run(spec, { signal, onEvent: emit, active: ctx.activeRuns }) };
    },
  };
}
