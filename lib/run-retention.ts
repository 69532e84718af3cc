/**
 * Storage per caller. Every run leaves a record and a log in the data directory, kept
 * for the retention time; without a bound per caller, one token's runs could fill the
 * disk in seconds. After each run ends, its owner's finished runs are weighed newest
 * first (record bytes plus log and index bytes); the oldest beyond the caller's count
 * or byte budget are deleted, record and log together. The newest is always kept, so
 * the run that just ended can still be read. Live runs are bounded apart from this:
 * each log by SLIPWAY_RUN_LOG_MAX_BYTES, their number by the caller's run bounds.
 */
import type { RunLogs } from './run-log.js';
import type { RunStore } from './run-store.js';

export interface StorageBudget {
  /** Bytes of finished runs' records and logs one caller may keep. */
  maxBytesPerCaller: number;
  /** Finished run records one caller may keep. */
  maxRecordsPerCaller: number;
}

/** Deletes `owner`'s oldest finished runs beyond its budget; returns their ids. */
export function enforceStorageBudget(store: RunStore, logs: RunLogs, owner: string | null, budget: StorageBudget): string[] {
  let bytes = 0;
  const over: string[] = [];
  store.finishedOf(owner).forEach((run, index) => {
    bytes += run.bytes + logs.sizeOnDisk(run.id);
    if (index > 0 && (index >= budget.maxRecordsPerCaller || bytes > budget.maxBytesPerCaller)) over.push(run.id);
  });
  if (over.length === 0) return over;
  store.delete(over);
  for (const id of over) logs.remove(id);
  return over;
}
