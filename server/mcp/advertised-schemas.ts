/**
 * The schemas tools/list advertises, derived from the TypeBox schemas both doors use.
 * The REST door and OpenAPI publish them whole; every MCP client downloads the whole
 * tool list, so this copy says each thing once:
 *
 * - Input: every validation keyword kept, so a tool accepts exactly what it advertises
 *   (tools/call validates with the full schema, as REST does); a grammar several tools
 *   share is named (`format: image-reference`) rather than spelled, with the same meaning
 *   (schemas/named-formats.ts). Dropped: `examples` (the tool descriptions carry an
 *   example call) and the description of a shared field (`memory_limit`, `wait`, ...)
 *   where it is the shared one, which the server's instructions give once
 *   (operations/instructions.ts).
 * - Output: the answer's own fields, each with its type, enum and requirement; a nested
 *   object or list by its type only. Accurate (every answer validates against it; the SDK
 *   client checks) and lean: the same record shapes would otherwise be repeated in tool
 *   after tool, a model reads the answer itself, and the whole shapes are in OpenAPI.
 */
import type { TSchema } from '@sinclair/typebox';
import { NAMED_PATTERNS } from '../../schemas/named-formats.js';

type Schema = Record<string, unknown>;

/** `schema` as JSON: TypeBox's symbol keys do not travel, and the copy may be changed. */
const plain = (schema: unknown): Schema => JSON.parse(JSON.stringify(schema)) as Schema;

/** A shared grammar's name, by its expression. */
const FORMAT_OF = new Map(Object.entries(NAMED_PATTERNS).map(([name, pattern]) => [pattern, name]));

/** Without `examples`, and with each shared grammar named instead of spelled. */
function saidOnce(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(saidOnce);
  if (typeof schema !== 'object' || schema === null) return schema;
  const lean: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'examples') continue;
    const format = key === 'pattern' ? FORMAT_OF.get(value as string) : undefined;
    if (format) lean.format = format;
    // Under `properties` and `patternProperties` the keys are names, whatever they are called.
    else lean[key] = key === 'properties' || key === 'patternProperties' ? mapValues(value as Schema, saidOnce) : saidOnce(value);
  }
  return lean;
}

const mapValues = (object: Schema, f: (value: unknown) => unknown): Schema => Object.fromEntries(Object.entries(object).map(([key, value]) => [key, f(value)]));

/**
 * An input schema as tools/list publishes it. `shared` maps a run field's name to the
 * description the instructions give it; a property with that very description is
 * published without it (one with words of its own keeps them).
 */
export function advertisedInput(schema: TSchema, shared: ReadonlyMap<string, string>): Schema {
  const lean = saidOnce(plain(schema)) as Schema;
  const properties = (lean.properties ?? {}) as Record<string, Schema>;
  for (const [name, property] of Object.entries(properties)) {
    if (property.description !== undefined && property.description === shared.get(name)) delete property.description;
  }
  return lean;
}

/** The JSON type(s) a schema allows, and nothing else; `{}` where it allows any. */
function typeOnly(schema: Schema): Schema {
  const branches = Array.isArray(schema.anyOf) ? (schema.anyOf as Schema[]) : [schema];
  const types = branches.map((branch) => branch.type);
  if (types.some((type) => type === undefined)) return {};
  const distinct = [...new Set(types.flat())];
  return { type: distinct.length === 1 ? distinct[0] : distinct };
}

/** A field of the answer: its type and enum; a list says that its entries are objects, when they are. */
function answerField(field: Schema): Schema {
  const entries = field.items as Schema | undefined;
  if (field.type === 'array' && entries?.type === 'object') return { type: 'array', items: { type: 'object' } };
  return { ...typeOnly(field), ...(Array.isArray(field.enum) ? { enum: field.enum } : {}) };
}

/** An output schema as tools/list publishes it (see the head of this file). */
export function advertisedOutput(schema: TSchema): Schema {
  const answer = plain(schema);
  return {
    type: 'object',
    ...(Array.isArray(answer.required) ? { required: answer.required } : {}),
    properties: mapValues((answer.properties ?? {}) as Schema, (field) => answerField(field as Schema)),
  };
}
