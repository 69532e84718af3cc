import t from 'tap';
import { parseMemorySize } from '../../lib/memory-size.js';

t.test('units are binary and case-insensitive, as docker run --memory reads them', async (t) => {
  const cases: [string, number][] = [
    ['0', 0],
    ['1', 1],
    ['512', 512],
    ['1b', 1],
    ['7B', 7],
    ['1k', 1024],
    ['2K', 2048],
    ['512m', 512 * 1024 ** 2],
    ['512M', 512 * 1024 ** 2],
    ['1g', 1024 ** 3],
    ['16G', 16 * 1024 ** 3],
    ['0006m', 6 * 1024 ** 2],
  ];
  for (const [text, bytes] of cases) t.equal(parseMemorySize(text, 'memory_limit'), bytes, text);
});

t.test('anything else is refused naming the field it came from', async (t) => {
  for (const bad of ['', 'm', '1.5g', '-1', '+1', '1 m', ' 1m', '1m ', '1mb', '1kb', '1t', '1e6', '0x10', '1_000', '１m', '1m\n']) {
    t.throws(() => parseMemorySize(bad, 'build.memory'), { code: 'SLIPWAY_ERR_INVALID_INPUT', statusCode: 400, field: 'build.memory', message: /must look like 512m/ }, JSON.stringify(bad));
  }
});

t.test('sizes beyond exact integer range are refused rather than rounded', async (t) => {
  t.equal(parseMemorySize('8388607g', 'm'), 8388607 * 1024 ** 3, 'just below 2^53');
  t.throws(() => parseMemorySize('8388608g', 'memory_limit'), { field: 'memory_limit', message: /too large/ });
  t.throws(() => parseMemorySize('99999999999999999999', 'memory_limit'), { field: 'memory_limit', message: /too large/ });
});
