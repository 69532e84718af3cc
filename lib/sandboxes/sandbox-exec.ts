/**
 * An exec in a sandbox as a run (kind `exec`): the run manager gives it a record, a log,
 * a queue slot, cancellation and idempotency like any run; lib/agent-exec.ts runs it
 * (marker, process-tree kill through the agent, OOM detection), shared with payload runs.
 */
import type { Logger } from 'pino';
import { execAsRun, type AgentExecRequest } from '../agent-exec.js';
import type { RunPlan } from '../runs.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';

export type ExecRequest = AgentExecRequest;

export interface ExecTarget {
  sandboxId: string;
  containerId: string;
  image: string;
  user: string;
  memoryBytes: number;
}

export interface ExecDeps {
  runtime: ContainerRuntime;
  outputLimitBytes: number;
  /** Marks the sandbox used (its idle clock restarts), at the start and the end of the exec. */
  touch: () => void;
  log: Logger;
}

export function execPlan(deps: ExecDeps, target: ExecTarget, exec: ExecRequest, request: unknown): RunPlan {
  return {
    kind: 'exec',
    image: target.image,
    timeoutMs: exec.timeoutMs,
    request,
    execute: async ({ runId, signal, emit }) => {
      deps.touch();
      try {
        const result = await execAsRun(deps, { ...target, logContext: { sandbox: target.sandboxId } }, exec, { runId, signal, emit, noun: 'exec' });
        return { result };
      } finally {
        deps.touch();
      }
    },
  };
}
