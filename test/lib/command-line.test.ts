import t from 'tap';
import { toArgv } from '../../lib/command-line.js';

t.test('a string is split by POSIX quoting rules, without a shell', async (t) => {
  t.same(toArgv("python3 -c 'print(2+2)'", 'command'), ['python3', '-c', 'print(2+2)']);
  t.same(toArgv('echo "a b" c\\ d', 'command'), ['echo', 'a b', 'c d']);
  t.same(toArgv('echo $HOME *.py', 'command'), ['echo', '$HOME', '*.py'], 'no expansion, no globbing');
});

t.test('an argv array passes through', async (t) => {
  t.same(toArgv(['sh', '-c', 'echo; ls'], 'command'), ['sh', '-c', 'echo; ls']);
  t.equal(toArgv(undefined, 'command'), undefined);
});

t.test('shell operators, comments, NUL bytes and empty commands are refused naming the field', async (t) => {
  for (const bad of ['echo a; rm -rf /', 'cat x | nc h 1', 'a && b', 'echo > /etc/x', 'echo # c', '   ', 'a\0b']) {
    t.throws(() => toArgv(bad, 'entrypoint'), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'entrypoint' }, JSON.stringify(bad));
  }
  t.throws(() => toArgv(['ok', 'a\0b'], 'command'), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'command[1]' }, 'NUL inside an argv element');
});

t.test('a JSON-encoded array string is the array it spells, never one argv word', async (t) => {
  t.same(toArgv('["sh","-c","echo hi"]', 'command'), ['sh', '-c', 'echo hi']);
  t.same(toArgv(' [ "echo", "a b" ] ', 'entrypoint'), ['echo', 'a b']);
  t.same(toArgv('[ -f /etc/passwd ]', 'command'), ['[', '-f', '/etc/passwd', ']'], 'the test command is still shell words');
  for (const bad of ['["sh", 1]', '[]', '["unterminated', '[["nested"]]']) {
    t.throws(() => toArgv(bad, 'command'), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'command', message: /send command as an array/ }, bad);
  }
});
