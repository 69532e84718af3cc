/**
 * A command in a live container that holds the agent (lib/sandboxes/agent.ts), run to its
 * end as a run: a sandbox exec (kind `exec`) and a payload run (kind `payload`) both end
 * here. The process runs as the container's user with a marker in its environment; when
 * it times out, is cancelled or floods its output, the agent kills every marked process
 * and its group, so nothing of it lingers. The container survives an OOM kill of the
 * process, so the engine's exit state cannot say OOM: the backend is asked whether it saw
 * one in the container since the exec began (`ContainerRuntime.sawOomKill`).
 */
import type { Logger } from 'pino';
import type { ContainerRuntime, ExecOutcome } from './runtime/container-runtime.js';
import type { RunEvent } from './run-events.js';
import type { RunResult, RunStatus } from '../schemas/run-result.js';
import { agentScript, EXEC_MARKER, KILL_SCRIPT } from './sandboxes/agent.js';

export interface AgentExecRequest {
  argv: string[];
  /** Text, or bytes (a payload's files as a tar, lib/run-kinds/payload-workspace.ts). */
  stdin?: string | Buffer | undefined;
  env?: Record<string, string> | undefined;
  workingDir: string;
  timeoutMs: number;
}

export interface AgentExecTarget {
  containerId: string;
  image: string;
  user: string;
  /** The container's memory limit, for the OOM sentence. */
  memoryBytes: number;
  /** What the log calls the container's owner (`sandbox` id, or the run). */
  logContext: Record<string, string>;
}

export interface AgentExecDeps {
  runtime: ContainerRuntime;
  outputLimitBytes: number;
  log: Logger;
}

/** How the run is called in its sentences: a sandbox `exec`, or a payload `run` (the words runs of images use). */
export type ExecNoun = 'exec' | 'run';

export interface AgentExecRun {
  runId: string;
  signal: AbortSignal;
  emit: (event: RunEvent) => void;
  noun: ExecNoun;
}

/** Tries to kill a few times: a fork bomb at the pids limit can leave no room for the killer itself at first. */
const KILL_ATTEMPTS = 20;
const KILL_RETRY_MS = 100;
/** The engine reports an OOM a moment after the process died: how often, and how many times, to look. */
const OOM_SETTLE_TRIES = 10;
const OOM_SETTLE_MS = 100;
const SIGKILL_EXIT = 137;
/** The kernel counts an exec's processes with the rest of its container: no figures of its own (a payload run reads its container's, payload-workspace.ts). */
export const EXEC_USAGE_UNAVAILABLE = "an exec's processes are counted with the rest of its sandbox's container; get_sandbox shows the sandbox's usage";

/** Runs `exec` in the target container, streaming its output as run events; answers the run's result. */
export async function execAsRun(deps: AgentExecDeps, target: AgentExecTarget, exec: AgentExecRequest, run: AgentExecRun): Promise<RunResult> {
  const startedAt = new Date();
  run.emit({ type: 'status', status: 'running', container_id: target.containerId });
  const flood = new AbortController();
  let total = 0;
  const signal = AbortSignal.any([run.signal, flood.signal]);
  // Stopped before its program started (while its files were written): cancelled, nothing to kill.
  const started = !signal.aborted;
  const outcome: ExecOutcome = !started
    ? { exitCode: null, stdout: '', stderr: '', timedOut: false, aborted: true }
    : await deps.runtime.exec(
        target.containerId,
        { cmd: exec.argv, env: { ...exec.env, [EXEC_MARKER]: run.runId }, user: target.user, workingDir: exec.workingDir, stdin: exec.stdin, timeoutMs: exec.timeoutMs },
        {
          signal,
          onOutput: (stream, chunk) => {
            total += chunk.length;
            if (total > deps.outputLimitBytes) flood.abort();
            run.emit({ type: 'output', stream, data: chunk.toString('utf8'), bytes: chunk.length });
          },
        },
      );
  const killed = started && (outcome.timedOut || outcome.aborted === true);
  if (killed) await killExec(deps, target, run.runId);
  const oom = !killed && outcome.exitCode === SIGKILL_EXIT ? await oomVerdict(deps.runtime, target.containerId, startedAt) : 'no';
  const status: RunStatus = outcome.timedOut
    ? 'timed_out'
    : flood.signal.aborted
      ? 'failed'
      : outcome.aborted
        ? 'cancelled'
        : oom === 'yes'
          ? 'oom_killed'
          : outcome.exitCode === 0
            ? 'succeeded'
            : 'failed';
  const finishedAt = new Date();
  const exitCode = killed ? SIGKILL_EXIT : outcome.exitCode;
  return {
    success: status === 'succeeded',
    exit_code: exitCode,
    stdout: outcome.stdout,
    stderr: outcome.stderr,
    execution_time: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    error_message: errorMessage(run.noun, status, exitCode, { timeoutMs: exec.timeoutMs, memoryBytes: target.memoryBytes, floodLimit: flood.signal.aborted ? deps.outputLimitBytes : undefined, oomUnknowable: oom === 'unknowable' }),
    run_id: run.runId,
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
}

/**
 * Whether a SIGKILL nobody here sent was the OOM killer: the backend's own record for the
 * container since the exec began, looked up for a short while (the report can trail the
 * exit). A backend that cannot tell (Podman 4.3) answers `unknowable`.
 */
async function oomVerdict(runtime: ContainerRuntime, containerId: string, since: Date): Promise<'yes' | 'no' | 'unknowable'> {
  if (!runtime.capabilities.oomDetection || !runtime.sawOomKill) return 'unknowable';
  for (let i = 0; i < OOM_SETTLE_TRIES; i++) {
    if (await runtime.sawOomKill(containerId, since).catch(() => false)) return 'yes';
    await new Promise((resolve) => setTimeout(resolve, OOM_SETTLE_MS));
  }
  return 'no';
}

/** Kills every process the exec started, through the agent; retried while the pids limit leaves no room. */
export async function killExec(deps: Pick<AgentExecDeps, 'runtime' | 'log'>, target: Pick<AgentExecTarget, 'containerId' | 'user' | 'logContext'>, runId: string): Promise<void> {
  for (let attempt = 1; attempt <= KILL_ATTEMPTS; attempt++) {
    try {
      const killed = await deps.runtime.exec(target.containerId, { cmd: agentScript(KILL_SCRIPT, [runId]), user: target.user, timeoutMs: 10_000 });
      if (killed.exitCode === 0) return;
      deps.log.debug({ ...target.logContext, runId, attempt, stderr: killed.stderr }, 'killing an exec\'s processes failed; retrying');
    } catch (err) {
      deps.log.debug({ ...target.logContext, runId, attempt, err: String(err) }, 'killing an exec\'s processes failed; retrying');
    }
    await new Promise((resolve) => setTimeout(resolve, KILL_RETRY_MS));
  }
  deps.log.warn({ ...target.logContext, runId }, 'could not kill an exec\'s processes');
}

interface MessageFacts {
  timeoutMs: number;
  memoryBytes: number;
  floodLimit: number | undefined;
  oomUnknowable: boolean;
}

/** The caller's sentence for how it ended; a payload run says what a run of an image says. */
function errorMessage(noun: ExecNoun, status: RunStatus, exitCode: number | null, facts: MessageFacts): string | null {
  const mib = Math.round(facts.memoryBytes / 1024 / 1024);
  if (facts.floodLimit !== undefined) return `${noun} produced more than ${facts.floodLimit} bytes of output and was stopped`;
  const killedAll = noun === 'exec' ? '; it and every process it started were killed' : ' and was stopped';
  switch (status) {
    case 'succeeded':
      return null;
    case 'timed_out':
      return `${noun} exceeded its timeout of ${facts.timeoutMs / 1000}s${killedAll}`;
    case 'cancelled':
      return noun === 'exec' ? `exec was cancelled${killedAll}` : 'run was cancelled';
    case 'oom_killed':
      return `${noun} was killed for exceeding its memory limit of ${mib} MiB`;
    default:
      if (facts.oomUnknowable && exitCode === SIGKILL_EXIT) {
        return `process was killed (exit code 137); this engine does not report out-of-memory kills, so exceeding the memory limit of ${mib} MiB may have been the cause`;
      }
      return `process exited with code ${exitCode}`;
  }
}
