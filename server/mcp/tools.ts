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

export interface SlipwayTool {
  /** The tools/list entry. */
  listing: Tool;
  operation: Operation;
}

/** The tools this server offers (an operation the configuration rules out is not listed). */
export function slipwayTools(config: Config, operations: readonly Operation[] = OPERATIONS): SlipwayTool[] {
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
          outputSchema: op.output as unknown as Tool['outputSchema'],
          annotations: {
            title: op.title,
            readOnlyHint: hints.readOnly,
            ...(hints.destructive === undefined ? {} : { destructiveHint: hints.destructive }),
            ...(hints.idempotent === undefined ? {} : { idempotentHint: hints.idempotent }),
            openWorldHint: hints.openWorld,
          },
        },
      };
    });
}
