/**
 * A bound on the shape of MCP tool arguments, checked before anything walks them
 * recursively (structuredClone, Ajv): 10,000 nested arrays overflow the stack of a
 * recursive walker and surfaced as an internal error. No tool's schema nests deeper
 * than a few levels, so anything past MAX_ARGUMENT_DEPTH is invalid input.
 */
import { invalidInput } from '../../lib/errors.js';

export const MAX_ARGUMENT_DEPTH = 32;

/**
 * Walks `value` iteratively (no recursion, so no stack to overflow) and refuses deep
 * nesting, naming the top-level argument it was found under.
 */
export function assertArgumentDepth(value: unknown, maxDepth = MAX_ARGUMENT_DEPTH): void {
  const pending: { value: unknown; depth: number; field: string }[] = [{ value, depth: 0, field: 'arguments' }];
  while (pending.length > 0) {
    const item = pending.pop()!;
    if (item.value === null || typeof item.value !== 'object') continue;
    if (item.depth >= maxDepth) throw invalidInput(item.field, `${item.field} is nested more than ${maxDepth} levels deep`);
    for (const [key, child] of Object.entries(item.value)) pending.push({ value: child, depth: item.depth + 1, field: item.depth === 0 ? key : item.field });
  }
}
