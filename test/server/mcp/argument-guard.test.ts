import t from 'tap';
import { assertArgumentDepth, MAX_ARGUMENT_DEPTH } from '../../../server/mcp/argument-guard.js';

const nested = (depth: number): unknown => {
  let value: unknown = 'x';
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};

t.test('arguments nested deeper than the bound are invalid input naming the top-level field', async (t) => {
  t.throws(() => assertArgumentDepth({ image: 'x', environment: nested(10_000) }), {
    code: 'SLIPWAY_ERR_INVALID_INPUT',
    field: 'environment',
    message: `environment is nested more than ${MAX_ARGUMENT_DEPTH} levels deep`,
  });
  t.throws(() => assertArgumentDepth({ files: nested(1_000_000) }), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'files' }, 'a million levels, without overflowing the stack');
});

t.test('ordinary arguments, and nesting up to the bound, pass', async (t) => {
  t.doesNotThrow(() => assertArgumentDepth(undefined));
  t.doesNotThrow(() => assertArgumentDepth({ image: 'x', files: [{ path: 'a', content: 'b' }], environment: { A: 'b' } }));
  t.doesNotThrow(() => assertArgumentDepth({ a: nested(MAX_ARGUMENT_DEPTH - 1) }));
  t.throws(() => assertArgumentDepth({ a: nested(MAX_ARGUMENT_DEPTH) }), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'a' });
});
