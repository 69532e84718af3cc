/**
 * The MCP tool table, derived from the operation table (operations/): each tool is an
 * operation, publishing the TypeBox schemas the REST door validates with and calling
 * the same lib/ function through the same scope check and audit line. What every run
 * shares is said once, in the server's instructions (operations/instructions.ts).
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Config } from '../config.js';
import { OPERATIONS } from '../../operations/index.js';
import { serverFacts, type Operation } from '../../operations/operation.js';
import { conformanceOperations } from './conformance-tools.js';

export interface SlipwayTool {
  /** The tools/list entry. */
  listing: Tool;
  operation: Operation;
}

/**
 * An output schema as tools/list publishes it: the same shape (every property, type,
 * enum, requirement), without the per-field prose, which the tool's description and the
 * server's instructions already give. Each run tool's output would otherwise repeat it.
 */
export function withoutDescriptions(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutDescriptions);
  if (typeof schema !== 'object' || schema === null) return schema;
  const lean: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'description' || key === 'examples') continue;
    // Under `properties` the keys are field names, whatever they are called.
    lean[key] = key === 'properties' ? Object.fromEntries(Object.entries(value as object).map(([name, sub]) => [name, withoutDescriptions(sub)])) : withoutDescriptions(value);
  }
  return lean;
}

/** The tools this server offers (an operation the configuration rules out is not listed). */
export function slipwayTools(config: Config, operations: readonly Operation[] = [...OPERATIONS, ...conformanceOperations(config)]): SlipwayTool[] {
  const facts = serverFacts(config);
  return operations
    .filter((op) => op.offered?.(facts) ?? true)
    .map((op) => {
      const hints = op.hints(facts);
      return {
        operation: op,
        listing: {
          name: op.tool,
          title: op.title,
          description: op.description(facts),
          // TypeBox schemas are JSON Schema as they are.
          inputSchema: op.input as Tool['inputSchema'],
          outputSchema: withoutDescriptions(op.output) as Tool['outputSchema'],
          annotations: {
            readOnlyHint: hints.readOnly,
            ...(hints.destructive === undefined ? {} : { destructiveHint: hints.destructive }),
            ...(hints.idempotent === undefined ? {} : { idempotentHint: hints.idempotent }),
            openWorldHint: hints.openWorld,
          },
        },
      };
    });
}
