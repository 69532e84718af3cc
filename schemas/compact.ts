/**
 * Compact spellings of two common shapes. TypeBox writes a union of literals as an
 * `anyOf` of `{const, type}` objects and a nullable field as an `anyOf` with `null`;
 * every MCP `tools/list` carries each of them many times over, at three times the size
 * of the plain JSON Schema forms below, which validate the same.
 */
import { Type, type SchemaOptions, type Static, type TInteger, type TNumber, type TString } from '@sinclair/typebox';

/** One of `values`, as `{"type": "string", "enum": [...]}`. */
export function StringEnum<const T extends string>(values: readonly T[], options: SchemaOptions = {}) {
  return Type.Unsafe<T>({ ...options, type: 'string', enum: [...values] });
}

/** `schema` or null, as `{"type": ["string", "null"], ...}`. */
export function Nullable<S extends TString | TInteger | TNumber>(schema: S, options: SchemaOptions = {}) {
  return Type.Unsafe<Static<S> | null>({ ...schema, ...options, type: [schema.type, 'null'] });
}
