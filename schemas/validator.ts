/**
 * One validator for both doors. Fastify (REST) and the MCP tool handler compile the
 * same TypeBox schemas with this Ajv instance, so a body accepted on one door is
 * accepted on the other, and both name the offending field the same way.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { invalidInput } from '../lib/errors.js';
import { explainImageReference } from '../lib/image-ref.js';
import { IMAGE_REFERENCE_PATTERN, MemoryLimit } from './common.js';
import { NAMED_PATTERNS } from './named-formats.js';

export const ajv = new Ajv({
  // Unknown fields must be refused (`privileged`, `binds`, ...), never silently dropped.
  removeAdditional: false,
  useDefaults: true,
  coerceTypes: false,
  allErrors: false,
  strict: false,
  // Errors carry the offending value, so a message can say what was sent (`got "pyhton"`).
  verbose: true,
});

/** Query strings are text: `?all_engine=true` must become a boolean before checking. */
export const queryAjv = new Ajv({ removeAdditional: false, useDefaults: true, coerceTypes: true, allErrors: false, strict: false, verbose: true });

/**
 * RFC 3339 date-time (`2026-01-31T12:00:00Z`, `...T12:00:00.5+02:00`), checked for real
 * calendar values too: `2026-13-45T00:00:00Z` has the shape but is no time, and must be
 * refused as input rather than fail later as an internal error.
 */
export function isDateTime(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|[+-](\d{2}):(\d{2}))$/i.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second, offsetHour = 0, offsetMinute = 0] = m.slice(1).map((n) => (n === undefined ? undefined : Number(n))) as number[];
  const lastOfMonth = new Date(0);
  lastOfMonth.setUTCFullYear(year!, month!, 0); // (Date.UTC reads years below 100 as 19xx)
  const daysInMonth = lastOfMonth.getUTCDate();
  return month! >= 1 && month! <= 12 && day! >= 1 && day! <= daysInMonth && hour! < 24 && minute! < 60 && second! < 60 && offsetHour < 24 && offsetMinute < 60;
}

for (const instance of [ajv, queryAjv]) instance.addFormat('date-time', { type: 'string', validate: isDateTime });
// The grammars tools/list names rather than spells (schemas/named-formats.ts), with the very same expressions.
for (const instance of [ajv, queryAjv]) {
  for (const [name, pattern] of Object.entries(NAMED_PATTERNS)) instance.addFormat(name, { type: 'string', validate: new RegExp(pattern, 'u') });
}

/** `/files/1/path` becomes `files[1].path`; a missing or extra property is named itself. */
export function fieldOf(error: ErrorObject): string {
  const segments = error.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const extra = (error.params as { missingProperty?: string; additionalProperty?: string }) ?? {};
  const path = segments.reduce((p, s) => (/^\d+$/.test(s) ? `${p}[${s}]` : p ? `${p}.${s}` : s), '');
  // A missing or extra property is a property name even when it is all digits.
  const leaf = extra.missingProperty ?? extra.additionalProperty;
  if (leaf === undefined) return path;
  return path ? `${path}.${leaf}` : leaf;
}

/**
 * What a format is, for the patterns a caller is likely to get wrong; the pattern itself
 * is never echoed (a regular expression tells a person little).
 */
const PATTERN_HINTS: Record<string, (value: string) => string> = {
  [MemoryLimit.pattern as string]: () => 'must look like 512m or 1g (a number with an optional unit b, k, m or g)',
  [IMAGE_REFERENCE_PATTERN]: (value) => `is not an image reference: ${explainImageReference(value)}`,
};

/** The value a caller sent, short enough to quote in a message. */
function quoted(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * A message naming the field and what is accepted. `all` is every error of the check:
 * a choice among constants (a TypeBox union of literals) fails once per constant, and
 * the message lists them all.
 */
export function describe(error: ErrorObject, all: readonly ErrorObject[] = [error]): string {
  const field = fieldOf(error) || 'body';
  const got = error.data === undefined ? '' : ` (got ${quoted(error.data)})`;
  switch (error.keyword) {
    case 'additionalProperties':
      return `${field} is not an accepted field`;
    case 'required':
      return `${field} is required`;
    case 'pattern': {
      const hint = PATTERN_HINTS[String(error.params.pattern)];
      return hint && typeof error.data === 'string' ? `${field} ${hint(error.data)}` : `${field} has an invalid format${got}`;
    }
    case 'format':
      return (error.params as { format?: string }).format === 'date-time'
        ? `${field} must be an ISO 8601 date-time such as 2026-01-31T12:00:00Z`
        : `${field} has an invalid format${got}`;
    case 'const':
    case 'enum': {
      const allowed = all
        .filter((e) => e.instancePath === error.instancePath && (e.keyword === 'const' || e.keyword === 'enum'))
        .flatMap((e) => (e.keyword === 'const' ? [e.params.allowedValue] : (e.params.allowedValues as unknown[])));
      return `${field} must be one of ${allowed.map(String).join(', ')}${got}`;
    }
    default:
      return `${field} ${error.message ?? 'is invalid'}`;
  }
}

const compiled = new WeakMap<object, ValidateFunction>();

function compile(schema: TSchema): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
  return fn;
}

/** Validates (and fills defaults into) `data`, or throws SLIPWAY_ERR_INVALID_INPUT naming the field. */
export function assertValid<T>(schema: TSchema, data: unknown): T {
  const validate = compile(schema);
  if (!validate(data)) {
    const first = validate.errors?.[0];
    if (!first) throw invalidInput('body', 'invalid input');
    throw invalidInput(fieldOf(first) || 'body', describe(first, validate.errors ?? []));
  }
  return data as T;
}

