import type { RunStatus } from '../schemas/run-result.js';

/**
 * What a run reports while it goes: the doors turn these into MCP progress and log
 * notifications or SSE frames.
 */
export type RunEvent =
  | { type: 'status'; status: RunStatus; container_id?: string }
  /** `bytes` is the raw length, which `data` (decoded text) need not match. */
  | { type: 'output'; stream: 'stdout' | 'stderr'; data: string; bytes: number }
  | { type: 'pull'; progress: PullProgress }
  /** One line of a repository build's output (clone notes, Dockerfile steps), as it happens. */
  | { type: 'build'; line: string }
  /** Output lost between two lives of a run (lib/resume-point.ts): marked where it happened. */
  | { type: 'gap'; gap: OutputGap };

export interface OutputGap {
  /** The last output the earlier gateway process logged was received at this time. */
  after: string;
  /** The engine's log resumes with output it stamped at this time. */
  resumed_at: string;
  message: string;
}

/** One line of an image pull's progress, as the engine reports it. */
export interface PullProgress {
  status: string;
  id?: string;
  current?: number;
  total?: number;
}
