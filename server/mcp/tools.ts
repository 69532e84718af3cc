/**
 * The MCP tool table, derived from the operation table (operations/): each tool is an
 * operation, publishing the TypeBox schemas the REST door validates with and calling
 * the same lib/ function through the same scope check and audit line. What every run
 * shares is said once, in the server's instructions (operations/instructions.ts), and
 * the schemas are published lean (advertised-schemas.ts).
 */
import type { Tool, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { Config } from '../config.js';
import { OPERATIONS } from '../../operations/index.js';
import { SHARED_FIELDS } from '../../operations/instructions.js';
import { serverFacts, type Hints, type Operation } from '../../operations/operation.js';
import { advertisedInput, advertisedOutput } from './advertised-schemas.js';
import { conformanceOperations } from './conformance-tools.js';

export interface SlipwayTool {
  /** The tools/list entry. */
  listing: Tool;
  operation: Operation;
}

/**
 * The hints as MCP annotations, each only where it differs from the protocol's default
 * (not read-only, destructive, not idempotent, open world): a client reads an absent
 * hint as its default, so the list need not repeat them twenty times.
 */
function annotationsOf(hints: Hints): ToolAnnotations {
  return {
    ...(hints.readOnly ? { readOnlyHint: true } : {}),
    ...(hints.destructive === false ? { destructiveHint: false } : {}),
    ...(hints.idempotent ? { idempotentHint: true } : {}),
    ...(hints.openWorld ? {} : { openWorldHint: false }),
  };
}

/** The tools this server offers (an operation the configuration rules out is not listed). */
export function slipwayTools(config: Config, operations: readonly Operation[] = [...OPERATIONS, ...conformanceOperations(config)]): SlipwayTool[] {
  const facts = serverFacts(config);
  return operations
    .filter((op) => op.offered?.(facts) ?? true)
    .map((op) => {
      return {
        operation: op,
        listing: {
          name: op.tool,
          title: op.title,
          description: op.description(facts),
          // The TypeBox schemas, each thing said once (advertised-schemas.ts); calls validate with the whole input schema.
          inputSchema: advertisedInput(op.input, SHARED_FIELDS) as Tool['inputSchema'],
          outputSchema: advertisedOutput(op.output) as Tool['outputSchema'],
          annotations: annotationsOf(op.hints(facts)),
        },
      };
    });
}
