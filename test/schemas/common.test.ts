import t from 'tap';
import { IMAGE_REFERENCE_PATTERN, ImageReference } from '../../schemas/common.js';
import { assertValid } from '../../schemas/validator.js';

// Ajv compiles patterns with the u flag; test the same way.
const pattern = new RegExp(IMAGE_REFERENCE_PATTERN, 'u');
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

t.test('references Docker accepts match', async (t) => {
  const valid = [
    'python',
    'python:3.12-slim',
    'library/python:3',
    'team/tool:1.2',
    'a/b/c/d',
    'registry.example.com/team/tool:1.2',
    'Registry.Example.COM/tool',
    'registry-1.example.com/x',
    'localhost/app',
    'localhost:5000/app:v1',
    '127.0.0.1:5055/slipway-test/busybox:pull',
    'myhost:5000/app',
    `python@${DIGEST}`,
    `python:3@${DIGEST}`,
    `ghcr.io/owner/repo@${DIGEST}`,
    'a.b_c__d-e--f/x',
    'x:V1_UP.x-1',
    'x:_underscore_first',
    `x:${'t'.repeat(128)}`,
    '0digit/9lead',
  ];
  for (const ref of valid) t.match(ref, pattern, ref);
});

t.test('hostile or malformed references do not', async (t) => {
  const hostile = [
    '',
    'python;rm -rf /',
    'python && id',
    'python|nc',
    '$(id)',
    '`id`',
    'python$HOME',
    "python'",
    'python"',
    'a b',
    'python\n',
    '\npython',
    'python\0',
    '-v',
    '--privileged',
    'Python',
    'team/Tool',
    '../x',
    'a/../b',
    'a/./b',
    '/abs',
    'a//b',
    'a/',
    'a:',
    'a:-tag',
    'a:.tag',
    `x:${'t'.repeat(129)}`,
    'x@sha256:abc',
    `x@sha256:${'A'.repeat(64)}`,
    `x@md5:${'a'.repeat(32)}`,
    `x@${DIGEST}:tag`,
    'a___b',
    '_a',
    'a.',
    'a-',
    '.a',
    'pythön',
    'host:port/x',
    '-host.com/x',
    'host-.com/x',
    'http://registry.example.com/x',
    'registry.example.com:123456/x',
    'user@registry.example.com/x',
  ];
  for (const ref of hostile) t.notMatch(ref, pattern, JSON.stringify(ref));
});

t.test('the schema also bounds the length, and names the field', async (t) => {
  const long = `${'a'.repeat(250)}/bcdef`;
  t.match(long, pattern, 'the grammar alone would take it');
  t.throws(() => assertValid(ImageReference, long), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'body' });
  t.equal(assertValid<string>(ImageReference, 'python:3.12-slim'), 'python:3.12-slim');
  t.throws(() => assertValid(ImageReference, 'python;id'), { code: 'SLIPWAY_ERR_INVALID_INPUT', message: 'body is not an image reference: it contains spaces, quotes or shell characters' });
});
