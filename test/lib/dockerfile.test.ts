// The gateway's Dockerfile reading: parser directives, continuations, comments, forms
// and flags; the builder's word expansion; and the plan's refusals and image list.
import t from 'tap';
import { planBuild, selectContextFiles } from '../../lib/build-plan.js';
import type { ContextEntry } from '../../lib/build-context.js';
import { expandWord, expandWords, isRemoteSource, keyValuePairs, parseDockerfile } from '../../lib/dockerfile.js';

const vars = new Map([
  ['A', 'alpha'],
  ['EMPTY', ''],
  ['SP', 'a b'],
]);

t.test('instructions: continuations, comments inside them, JSON and shell forms, flags', async (t) => {
  const { instructions, escape } = parseDockerfile('# syntax=docker/dockerfile:1\n\nfrom busybox AS base\n# a comment\nRUN echo one \\\n  # skipped inside\n  && echo two\nCOPY --from=base --chown=1:2 a b /dst/\nCMD ["sh", "-c", "x"]\nENTRYPOINT [not json\n');
  t.equal(escape, '\\');
  t.same(instructions.map((i) => [i.line, i.keyword]), [[3, 'FROM'], [5, 'RUN'], [8, 'COPY'], [9, 'CMD'], [10, 'ENTRYPOINT']]);
  t.equal(instructions[1]!.args, 'echo one   && echo two');
  t.same(instructions[2]!.flags, { from: 'base', chown: '1:2' });
  t.equal(instructions[2]!.args, 'a b /dst/');
  t.same(instructions[3]!.json, ['sh', '-c', 'x']);
  t.notOk(instructions[4]!.json, 'not JSON: the shell form');
});

t.test('the escape directive changes the continuation character', async (t) => {
  const { instructions, escape } = parseDockerfile('# escape=`\nFROM x\nRUN dir c:\\ `\n  && echo done\n');
  t.equal(escape, '`');
  t.equal(instructions[1]!.args, 'dir c:\\   && echo done');
  t.throws(() => parseDockerfile('# escape=x\nFROM y\n'), { message: /line 1: invalid escape directive/ });
});

t.test('heredocs are refused naming the line', async (t) => {
  t.throws(() => parseDockerfile('FROM x\nRUN <<EOF\necho hi\nEOF\n'), { message: /line 2: RUN with a heredoc/ });
});

t.test('word expansion: $VAR, ${VAR}, defaults and alternatives, quotes and escapes', async (t) => {
  t.equal(expandWord('$A-${A}', vars), 'alpha-alpha');
  t.equal(expandWord('${MISSING:-fallback} ${EMPTY:-e} ${EMPTY-set} ${A:+alt} ${MISSING:+alt}.', vars), 'fallback e  alt .');
  t.equal(expandWord('${MISSING:-${A}}', vars), 'alpha', 'a default may itself be a variable');
  t.equal(expandWord("'$A' \"$A\" \\$A", vars), '$A alpha $A', 'single quotes and escapes keep $ literal');
  t.same(expandWords('one "two three" $SP', vars), ['one', 'two three', 'a b'], 'quotes keep spaces; a value is one word');
  t.throws(() => expandWord('${A', vars), { message: /missing }/, field: 'dockerfile_path' });
  t.throws(() => expandWord('${A/x/y}', vars), { message: /unsupported variable expansion/ });
});

t.test('ENV and LABEL pairs in both spellings', async (t) => {
  const [env] = parseDockerfile('ENV NAME="a $A" OTHER=2').instructions;
  t.same(keyValuePairs(env!, vars, '\\'), [['NAME', 'a alpha'], ['OTHER', '2']]);
  const [legacy] = parseDockerfile('ENV NAME a value').instructions;
  t.same(keyValuePairs(legacy!, vars, '\\'), [['NAME', 'a value']]);
});

t.test('URLs are recognised in any case and scheme', async (t) => {
  for (const src of ['http://127.0.0.1/x', 'HTTPS://h/x', 'Git://h/r', 'git@github.com:o/r.git', 'ftp://h/x', 'git::https://x']) t.ok(isRemoteSource(src), src);
  for (const src of ['a/b', './x:y', 'file.txt']) t.notOk(isRemoteSource(src), src);
});

t.test('the plan: stages, meta ARGs in FROM, the images a build reads, the target', async (t) => {
  const text = 'ARG BASE=busybox:1\nFROM ${BASE} AS one\nRUN true\nFROM one AS two\nCOPY --from=python:3 /a /b\nCOPY --from=one /a /c\nFROM alpine AS three\n';
  const plan = planBuild(text, { BASE: 'py:3' });
  t.same(plan.images, [{ ref: 'py:3', line: 2 }, { ref: 'python:3', line: 5 }, { ref: 'alpine', line: 7 }], 'build_args reach FROM; stages are not images');
  t.equal(plan.total, 7);
  t.same(plan.stages.map((s) => [s.name, s.fromStage]), [['one', null], ['two', 0], ['three', null]]);
  const target = planBuild(text, {}, 'two');
  t.same(target.images.map((i) => i.ref), ['busybox:1', 'python:3'], 'stages after the target read nothing');
  t.throws(() => planBuild(text, {}, 'nope'), { message: /target stage nope/ });
});

t.test('the plan refuses what the builder does not run, naming the line', async (t) => {
  const refuse = (text: string, message: RegExp) => t.throws(() => planBuild(text, {}), { message }, text);
  refuse('FROM x\nVOLUME /data\n', /line 2: VOLUME/);
  refuse('FROM x\nONBUILD RUN id\n', /line 2: ONBUILD/);
  refuse('FROM x\nRUN --mount=type=cache,target=/c true\n', /line 2: RUN --mount/);
  refuse('FROM x\nRUN --network=host true\n', /line 2: RUN --network/);
  refuse('FROM x\nADD http://127.0.0.1:1/secret /x\n', /line 2: ADD of a URL/);
  refuse('FROM x\nadd HTTP://127.0.0.1:1/secret /x\n', /ADD of a URL/);
  refuse('FROM x\nADD --checksum=sha256:0 http://h/x /x\n', /ADD --checksum/);
  refuse('FROM scratch\n', /FROM scratch/);
  refuse('RUN true\n', /RUN before the first FROM/);
  refuse('FROM x\nFROBNICATE y\n', /line 2: unknown or unsupported instruction FROBNICATE/);
});

t.test('COPY sources: files, directories, wildcards, destinations; URLs and misses refused', async (t) => {
  const entry = (path: string, type: ContextEntry['type'] = 'file'): ContextEntry => ({ path, abs: `/ctx/${path}`, type, mode: 0o644, size: 1, mtime: new Date(0) });
  const files = [entry('a.txt'), entry('b.txt'), entry('dir', 'directory'), entry('dir/c.txt'), entry('dir/sub', 'directory'), entry('dir/sub/d.txt')];
  const names = (sources: string[], dest: string, workdir = '') => selectContextFiles(files, sources, dest, workdir, 3).map((i) => i.name);
  t.same(names(['a.txt'], '/x'), ['x'], 'one file to a file name');
  t.same(names(['a.txt'], 'x/', '/app'), ['app/x/a.txt'], 'relative to WORKDIR, into a directory');
  t.same(names(['*.txt'], '/d'), ['d/a.txt', 'd/b.txt'], 'a wildcard means a directory');
  t.same(names(['dir'], '/d'), ['d/c.txt', 'd/sub', 'd/sub/d.txt'], "a directory's contents");
  t.same(names(['.'], '/all').length, files.length, 'the whole context');
  t.throws(() => names(['../etc/passwd'], '/x'), { message: /not found in the build context/ }, '.. stays inside the context');
  t.throws(() => names(['HTTP://127.0.0.1/x'], '/x'), { message: /line 3: .*URL/ });
});
