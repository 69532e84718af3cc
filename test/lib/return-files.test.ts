// lib/return-files.ts: the request's patterns, and the agent's answer read within the bounds.
import t from 'tap';
import { parseCollected, returnPatterns } from '../../lib/return-files.js';

const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

t.test('patterns become paths relative to /workspace; .., NUL, the workspace itself and absolute paths elsewhere are refused naming the field', async (t) => {
  t.strictSame(returnPatterns(['out.txt', './out/*.png', '/workspace/a/b', 'dir/']), ['out.txt', 'out/*.png', 'a/b', 'dir']);
  for (const [bad, message] of [['../x', /must not contain \.\./], ['a/../../x', /must not contain \.\./], ['/etc/passwd', /must be inside \/workspace/], ['a\0b', /NUL/], ['.', /not the directory itself/]] as const) {
    t.throws(() => returnPatterns(['ok', bad]), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'return_files[1]', message }, bad);
  }
});

t.test('the agent\'s lines become files (text as utf8, the rest base64), refusals with a reason, and flags for a cut', async (t) => {
  const stdout = [`F|${b64('a.txt')}|3|${b64('hi\n')}`, `F|${b64('b.bin')}|10|${b64(Buffer.from([0, 255]))}`, `R|${b64('leak')}|outside`, `F|${b64('a.txt')}|3|${b64('hi\n')}`, 'T', ''].join('\n');
  const out = parseCollected(stdout, false);
  t.strictSame(out.files, [
    { path: 'a.txt', size: 3, encoding: 'utf8', content: 'hi\n', truncated: false },
    { path: 'b.bin', size: 10, encoding: 'base64', content: b64(Buffer.from([0, 255])), truncated: true },
  ], 'a path matched twice comes back once');
  t.match(out.files_refused, [{ path: 'leak', reason: /outside \/workspace/ }]);
  t.equal(out.files_truncated, true);
});

t.test('an answer cut at its output cap drops its partial last line and says it was cut', async (t) => {
  const out = parseCollected(`F|${b64('a.txt')}|2|${b64('ok')}\nF|${b64('b.txt')}|900|AAAA`, true);
  t.strictSame(out.files.map((f) => f.path), ['a.txt']);
  t.equal(out.files_truncated, true);
  t.strictSame(parseCollected(`F|${b64('a.txt')}|2|${b64('ok')}\n`, false).files_truncated, false);
});
