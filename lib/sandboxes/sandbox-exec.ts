/**
 * An exec in a sandbox as a run (kind `exec`): the run manager gives it a record, a log,
 * a queue slot, cancellation and idempotency like any run; this file is what it does.
 * The process runs as the sandbox user with a marker in its environment; when it times
 * out, is cancelled or floods its output, the agent kills every marked process and its
 * group, so nothing of it lingers and the sandbox stays usable.
 */
import type { Logger } from 'pino';
import type { RunPlan } from '../runs.js';
import type { ContainerRuntime, ExecOutcome } from '../runtime/container-runtime.js';
import type { RunResult, RunStatus } from '../../schemas/run-result.js';
import { agentScript, EXEC_MARKER, KILL_SCRIPT } from './agent.js';

export interface ExecRequest {
  argv: string[];
  stdin?: string | undefined;
  env?: Record<string, string> | undefined;
  workingDir: string;
  timeoutMs: number;
}

export interface ExecTarget {
  sandboxId: string;
  containerId: string;
  image: string;
  user: string;
}

export interface ExecDeps {
  runtime: ContainerRuntime;
  outputLimitBytes: number;
  /** Marks the sandbox used (its idle clock restarts), at the start and the end of the exec. */
  touch: () => void;
  log: Logger;
}

/** Tries to kill a few times: a fork bomb at the pids limit can leave no room for the killer itself at first. */
const KILL_ATTEMPTS = 20;
const KILL_RETRY_MS = 100;

/** The kernel counts an exec's processes with the rest of its sandbox's container: no figures of its own. */
const EXEC_USAGE_UNAVAILABLE = "an exec's processes are counted with the rest of its sandbox's container; get_sandbox shows the sandbox's usage";

export function execPlan(deps: ExecDeps, target: ExecTarget, exec: ExecRequest, request: unknown): RunPlan {
  return {
    kind: 'exec',
    image: target.image,
    timeoutMs: exec.timeoutMs,
    request,
    execute: async ({ runId, signal, emit }) => {
      const startedAt = new Date();
      deps.touch();
      emit({ type: 'status', status: 'running', container_id: target.containerId });
      const flood = new AbortController();
      const stop = AbortSignal.any([signal, flood.signal]);
      let total = 0;
      let outcome: ExecOutcome;
      try {
        outcome = await deps.runtime.exec(
          target.containerId,
          { cmd: exec.argv, env: { ...exec.env, [EXEC_MARKER]: runId }, user: target.user, workingDir: exec.workingDir, stdin: exec.stdin, timeoutMs: exec.timeoutMs },
          {
            signal: stop,
            onOutput: (stream, chunk) => {
              total += chunk.length;
              if (total > deps.outputLimitBytes) flood.abort();
              emit({ type: 'output', stream, data: chunk.toString('utf8'), bytes: chunk.length });
            },
          },
        );
      } finally {
        deps.touch();
      }
      if (outcome.timedOut || outcome.aborted) await killExec(deps, target, runId);
      const status: RunStatus = outcome.timedOut ? 'timed_out' : flood.signal.aborted ? 'failed' : outcome.aborted ? 'cancelled' : outcome.exitCode === 0 ? 'succeeded' : 'failed';
      const finishedAt = new Date();
      const result: RunResult = {
        success: status === 'succeeded',
        exit_code: outcome.exitCode,
        stdout: outcome.stdout,
        stderr: outcome.stderr,
        execution_time: (finishedAt.getTime() - startedAt.getTime()) / 1000,
        error_message: errorMessage(status, outcome, exec.timeoutMs, flood.signal.aborted ? deps.outputLimitBytes : undefined),
        run_id: runId,
        status,
        container_id: target.containerId,
        image: target.image,
        started_at: startedAt.toISOString(),
        finished_at: finishedAt.toISOString(),
        stdout_truncated: outcome.stdoutTruncated ?? false,
        stderr_truncated: outcome.stderrTruncated ?? false,
        resource_usage: null,
        resource_usage_unavailable: EXEC_USAGE_UNAVAILABLE,
      };
      return { result };
    },
  };
}

/** Kills every process the exec started, through the agent; retried while the pids limit leaves no room. */
export async function killExec(deps: Pick<ExecDeps, 'runtime' | 'log'>, target: ExecTarget, runId: string): Promise<void> {
  for (let attempt = 1; attempt <= KILL_ATTEMPTS; attempt++) {
    try {
      const killed = await deps.runtime.exec(target.containerId, { cmd: agentScript(KILL_SCRIPT, [runId]), user: target.user, timeoutMs: 10_000 });
      if (killed.exitCode === 0) return;
      deps.log.debug({ sandbox: target.sandboxId, runId, attempt, stderr: killed.stderr }, 'killing an exec\'s processes failed; retrying');
    } catch (err) {
      deps.log.debug({ sandbox: target.sandboxId, runId, attempt, err: String(err) }, 'killing an exec\'s processes failed; retrying');
    }
    await new Promise((resolve) => setTimeout(resolve, KILL_RETRY_MS));
  }
  deps.log.warn({ sandbox: target.sandboxId, runId }, 'could not kill an exec\'s processes');
}

function errorMessage(status: RunStatus, outcome: ExecOutcome, timeoutMs: number, floodLimit: number | undefined): string | null {
  if (floodLimit !== undefined) return `exec produced more than ${floodLimit} bytes of output and was stopped`;
  switch (status) {
    case 'succeeded':
      return null;
    case 'timed_out':
      return `exec exceeded its timeout of ${timeoutMs / 1000}s; it and every process it started were killed`;
    case 'cancelled':
      return 'exec was cancelled; it and every process it started were killed';
    default:
      return `process exited with code ${outcome.exitCode}`;
  }
}
