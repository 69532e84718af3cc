/**
 * One validator for both doors. Fastify (REST) and the MCP tool handler compile the
 * same TypeBox schemas with this Ajv instance, so a body accepted on one door is
 * accepted on the other, and both name the offending field the same way.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { invalidInput } from '../lib/errors.js';

export const ajv = new Ajv({
  // Unknown fields must be refused (`privileged`, `binds`, ...), never silently dropped.
  removeAdditional: false,
  useDefaults: true,
  coerceTypes: false,
  allErrors: false,
  strict: false,
});

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

export function describe(error: ErrorObject): string {
  const field = fieldOf(error) || 'body';
  switch (error.keyword) {
    case 'additionalProperties':
      return `${field} is not an accepted field`;
    case 'required':
      return `${field} is required`;
    case 'pattern':
      return `${field} has an invalid format`;
    case 'enum':
      return `${field} must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
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
    throw invalidInput(fieldOf(first) || 'body', describe(first));
  }
  return data as T;
}

/** Query strings are text: `?all_engine=true` must become a boolean before checking. */
export const queryAjv = new Ajv({ removeAdditional: false, useDefaults: true, coerceTypes: true, allErrors: false, strict: false });
