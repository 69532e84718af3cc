import type { RunStatus } from '../schemas/run-result.js';
import type { PullProgress } from './images.js';

/**
 * What a run reports while it goes: the doors turn these into MCP progress and log
 * notifications or SSE frames.
 */
export type RunEvent =
  | { type: 'status'; status: RunStatus; container_id?: string }
  | { type: 'output'; stream: 'stdout' | 'stderr'; data: string }
  | { type: 'pull'; progress: PullProgress };
