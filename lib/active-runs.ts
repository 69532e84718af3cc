/**
 * Runs whose container is live in this process, so that stopping a container from
 * outside the run (stop_container, cancel) ends that run as `cancelled` rather than
 * as a plain failure.
 */
export type StopReason = 'cancelled' | 'timed_out' | 'output_limit';

export interface ActiveRun {
  runId: string;
  containerId: string | null;
  /** Stops the run's container with the given SIGTERM-to-SIGKILL grace. */
  stop(reason: StopReason, graceSeconds?: number): Promise<void>;
}

export class ActiveRuns {
  private readonly runs = new Map<string, ActiveRun>();

  add(run: ActiveRun): void {
    this.runs.set(run.runId, run);
  }

  delete(runId: string): void {
    this.runs.delete(runId);
  }

  get(runId: string): ActiveRun | undefined {
    return this.runs.get(runId);
  }

  byContainer(containerId: string): ActiveRun | undefined {
    for (const run of this.runs.values()) if (run.containerId === containerId) return run;
    return undefined;
  }

  get size(): number {
    return this.runs.size;
  }

  all(): ActiveRun[] {
    return [...this.runs.values()];
  }
}
