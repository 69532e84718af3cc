/**
 * The cursor of list_runs / GET /v1/runs: opaque to callers, it is the (created_at, id)
 * of the last run of a page, the key the next page starts below (newest first). A
 * cursor that is not one this server gave is refused naming the `cursor` field.
 */
import { invalidInput } from './errors.js';

/** Where a page ends: runs created before this time, or at it with a smaller id, come next. */
export interface RunCursor {
  created_at: string;
  id: string;
}

export function encodeRunCursor(cursor: RunCursor): string {
  return Buffer.from(JSON.stringify({ created_at: cursor.created_at, id: cursor.id })).toString('base64url');
}

export function decodeRunCursor(text: string): RunCursor {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  const { created_at, id } = (decoded ?? {}) as Partial<Record<keyof RunCursor, unknown>>;
  if (typeof created_at !== 'string' || typeof id !== 'string') throw invalidInput('cursor', 'cursor is not one this server gave');
  return { created_at, id };
}
