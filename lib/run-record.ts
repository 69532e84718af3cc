/**
 * The one mapping from a run as Slipway keeps it (lib/run-store.ts StoredRun, with a
 * repo run's build as its own field group) to the shapes both doors answer
 * (schemas/run-result.ts, schemas/repo-run.ts, schemas/runs.ts).
 */
import type { RepoBuildInfo } from './repo-build.js';
import type { StoredRun } from './run-store.js';
import { RepoBuildResult, type RepoRunResult } from '../schemas/repo-run.js';
import { RunResult, type ReturnedFiles } from '../schemas/run-result.js';
import { RunRecord } from '../schemas/runs.js';

/** What an executed run gives back: its result, and a repo run's build. */
export interface RunOutcome {
  result: RunResult;
  build?: RepoBuildInfo | undefined;
}

const RESULT_FIELDS = Object.keys(RunResult.properties) as (keyof RunResult)[];
/** The record's own fields beyond a result; a repo run's build fields are added from `build`. */
const BUILD_FIELDS = Object.keys(RepoBuildResult.properties);
const RECORD_FIELDS = (Object.keys(RunRecord.properties) as (keyof RunRecord)[]).filter((key) => !RESULT_FIELDS.includes(key as keyof RunResult) && !BUILD_FIELDS.includes(key));

/** The public fields of a repo run's build. */
function buildFields(build: RepoBuildInfo | null | undefined): Partial<RepoBuildResult> {
  if (!build) return {};
  const { commit_sha, image_id, image_tag, build_time, cache_hit, build_log } = build;
  return { commit_sha, image_id, image_tag, build_time, cache_hit, build_log };
}

function pick<T extends object, K extends string>(source: T, keys: readonly K[]): Record<K, unknown> {
  return Object.fromEntries(keys.map((key) => [key, (source as Record<string, unknown>)[key]])) as Record<K, unknown>;
}

/** A finished run's answer: the result, and a repo run's build fields. */
export function outcomeResult(outcome: RunOutcome): RepoRunResult {
  return { ...outcome.result, ...buildFields(outcome.build) };
}

/** The result fields of a record (what a waited-for run answers, and a replay). */
export function toResult(stored: StoredRun): RepoRunResult {
  return { ...(pick(stored, RESULT_FIELDS) as RunResult), ...buildFields(stored.build), ...returnedFiles(stored) };
}

/** A payload run's return_files fields, when it asked for some. */
function returnedFiles(stored: StoredRun): Partial<ReturnedFiles> {
  if (stored.files === undefined) return {};
  const { files, files_truncated, files_refused } = stored;
  return { files, files_truncated, files_refused };
}

/** The public record, without what only the gateway keeps (owner, request hash). */
export function toPublicRecord(stored: StoredRun): RunRecord {
  return { ...(pick(stored, [...RESULT_FIELDS, ...RECORD_FIELDS]) as RunRecord), ...buildFields(stored.build) };
}
