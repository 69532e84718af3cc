import { invalidInput } from './errors.js';

const UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `512m` -> bytes, as `docker run --memory` reads it. */
export function parseMemorySize(value: string, field: string): number {
  const match = /^(\d+)([bkmg]?)$/i.exec(value);
  if (!match) throw invalidInput(field, `${field} must look like 512m or 1g`);
  const bytes = Number(match[1]) * UNITS[(match[2] || 'b').toLowerCase()]!;
  if (!Number.isSafeInteger(bytes)) throw invalidInput(field, `${field} is too large`);
  return bytes;
}
