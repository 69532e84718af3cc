import type { RunStatus } from '../schemas/run-result.js';
import type { PullProgress } from './images.js';

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
  | { type: 'build'; line: string };
