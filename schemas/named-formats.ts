/**
 * Grammars several tools share, by name. tools/list advertises `format: <name>` in place
 * of the regular expression (the image reference grammar alone is 420 bytes, in four
 * tools); the validator defines each format by its expression (schemas/validator.ts), so
 * a schema means the same under either spelling. The TypeBox schemas keep the patterns:
 * the REST door and OpenAPI show them as they are.
 */
import { IMAGE_REFERENCE_PATTERN } from './common.js';
import { SANDBOX_ID_PATTERN } from './sandboxes.js';

export const NAMED_PATTERNS: Readonly<Record<string, string>> = {
  'image-reference': IMAGE_REFERENCE_PATTERN,
  'sandbox-id': SANDBOX_ID_PATTERN,
};
