// POST /v1/payloads/run on the real engine: files go in through the agent into a bounded, writable /workspace, runs are non-root, files come back.
import t from 'tap';
import { startGateway } from '../fixtures/gateway.js';
import { createdSince, waitUntilGone } from '../fixtures/engine-view.js';
import { docker, notOnPodman, TEST_INSTANCE } from '../fixtures/docker.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { LABEL_INSTANCE, LABEL_KIND } from '../../lib/labels.js';

const INSTANCE = `${TEST_INSTANCE}-payloads`;
const gw = await startGateway({ SLIPWAY_INSTANCE: INSTANCE });
t.teardown(() => gw.close());

const run = (body: Record<string, unknown>) => gw.request('POST', '/v1/payloads/run', body);

t.test('a Python payload with the original single-payload fields', async (t) => {
  const res = await run({ language: 'python', payload: 'import sys\nprint(2 + 2)\nprint("warn", file=sys.stderr)\n' });
  t.equal(res.status, 200);
  t.match(res.body, { success: true, exit_code: 0, stdout: '4\n', stderr: 'warn\n', status: 'succeeded' });
  t.ok(await waitUntilGone(res.body.container_id));
});

t.test('several files, nested paths, base64 and modes, in sh', async (t) => {
  const res = await run({
    language: 'sh',
    files: [
      { path: 'main.sh', content: '. ./lib/greet.sh; greet; cat data.bin; ./tool.sh; id -u; pwd' },
      { path: 'lib/greet.sh', content: 'greet() { echo hello from lib; }' },
      { path: 'data.bin', content: Buffer.from('binary ok\n').toString('base64'), encoding: 'base64' },
      { path: './tool.sh', content: '#!/bin/sh\necho tool ran\n', mode: 0o755 },
    ],
  });
  t.match(res.body, { success: true, stdout: 'hello from lib\nbinary ok\ntool ran\n65534\n/workspace\n' });
});

t.test('an explicit image and command instead of a language', async (t) => {
  const res = await run({ image: BUSYBOX_IMAGE, command: 'sh job.sh', payload: 'echo "args ok"; exit 4', payload_path: 'job.sh' });
  t.match(res.body, { success: false, exit_code: 4, stdout: 'args ok\n', status: 'failed' });
});

t.test('the program writes next to its files and reads it back; the workspace is a bounded tmpfs and the root stays read-only', async (t) => {
  const res = await run({
    language: 'sh',
    memory_limit: '64m',
    payload: 'echo made > note.txt && cat note.txt; echo changed > main.sh && echo own-file-writable; touch /x 2>/dev/null || echo root-read-only; grep " /workspace " /proc/mounts',
  });
  t.match(res.body, { success: true, stdout: /^made\nown-file-writable\nroot-read-only\n/ });
  // The tmpfs counts against memory: at most half of the run's 64 MiB.
  t.match(res.body.stdout, /\/workspace tmpfs rw,nosuid,nodev,.*size=32768k/);
});

t.test('files the program produced come back: a text and a binary file through one glob', async (t) => {
  const res = await run({
    language: 'sh',
    payload: "mkdir out; printf 'hello\\n' > out/a.txt; printf '\\000\\001\\377' > out/b.bin; echo done",
    return_files: ['out/*', 'missing.txt'],
  });
  t.match(res.body, { success: true, stdout: 'done\n', files_truncated: false });
  t.same(res.body.files, [
    { path: 'out/a.txt', size: 6, encoding: 'utf8', content: 'hello\n', truncated: false },
    { path: 'out/b.bin', size: 3, encoding: 'base64', content: Buffer.from([0, 1, 255]).toString('base64'), truncated: false },
  ]);
  t.same(res.body.files_refused, [{ path: 'missing.txt', reason: 'nothing matched' }]);
  const record = await gw.request('GET', `/v1/runs/${res.body.run_id}`);
  t.same(record.body.files, res.body.files, 'the run record keeps them');
  t.ok(await waitUntilGone(res.body.container_id));
});

t.test('return_files cannot escape the workspace: .. and absolute paths are refused, a link made by the program is not read', async (t) => {
  const since = Date.now();
  for (const [pattern, field] of [['../etc/passwd', 'return_files[0]'], ['/etc/passwd', 'return_files[0]'], ['a/../../x', 'return_files[0]']] as const) {
    const res = await run({ language: 'sh', payload: 'true', return_files: [pattern] });
    t.equal(res.status, 400, pattern);
    t.match(res.body.error, { code: 'SLIPWAY_ERR_INVALID_INPUT', field });
  }
  t.same(await createdSince(INSTANCE, since), [], 'refused before anything was created');
  const res = await run({ language: 'sh', payload: 'ln -s /etc/passwd leak; mkdir d; ln -s /etc d/etc; echo inside > ok.txt; ln -s ok.txt alias', return_files: ['leak', 'd/etc', 'alias', '*.txt'] });
  t.match(res.body, { status: 'succeeded' });
  t.same(res.body.files.map((f: { path: string; content: string }) => [f.path, f.content]), [['alias', 'inside\n'], ['ok.txt', 'inside\n']]);
  t.match(res.body.files_refused, [{ path: 'leak', reason: /outside \/workspace/ }, { path: 'd/etc', reason: /outside \/workspace/ }]);
  t.notMatch(JSON.stringify(res.body), /root:x:0/, 'nothing of /etc/passwd came back');
});

t.test('return_files bounds cut the result and say so: per-file bytes, total bytes, count', async (t) => {
  const small = await startGateway({ SLIPWAY_RETURN_FILES_MAX_COUNT: '3', SLIPWAY_RETURN_FILES_MAX_FILE_BYTES: '4', SLIPWAY_RETURN_FILES_MAX_TOTAL_BYTES: '6' });
  t.teardown(() => small.close());
  const res = await small.request('POST', '/v1/payloads/run', { language: 'sh', payload: 'for f in a b c d; do echo 12345678 > $f.txt; done', return_files: ['*.txt'] });
  t.match(res.body, { status: 'succeeded', files_truncated: true });
  t.same(
    res.body.files.map((f: { path: string; content: string; truncated: boolean }) => [f.path, f.content, f.truncated]),
    [['a.txt', '1234', true], ['b.txt', '12', true], ['c.txt', '', true]],
    'four bytes of the first, the two left of the total, nothing of the third; the fourth is past the count',
  );
});

t.test('a payload over its memory ends oom_killed, and one past its timeout timed_out with its process tree killed', notOnPodman('Podman 4.3 sends no oom event for a process of a live container; podman.test.ts checks what it reports instead'), async (t) => {
  const oom = await run({ language: 'sh', payload: 'x=a; while :; do x=$x$x; done', memory_limit: '32m' });
  t.match(oom.body, { status: 'oom_killed', exit_code: 137, error_message: /memory limit of 32 MiB/ });
  const slow = await run({ language: 'sh', payload: 'trap "" TERM; (sleep 300 &); echo started; sleep 300', timeout: 1 });
  t.match(slow.body, { status: 'timed_out', exit_code: 137, stdout: 'started\n', error_message: /timeout of 1s/ });
  t.ok(await waitUntilGone(slow.body.container_id), 'its container is gone');
});

t.test('stdin reaches the payload program', async (t) => {
  const res = await run({ language: 'sh', payload: 'read line; echo "got $line"', stdin: 'hello\n' });
  t.match(res.body, { status: 'succeeded', stdout: 'got hello\n' });
});

t.test('hostile or duplicate file paths are refused naming the field, and nothing is created', async (t) => {
  const since = Date.now();
  const cases: [Record<string, unknown>[], string][] = [
    [[{ path: '../x', content: '' }], 'files[0].path'],
    [[{ path: 'ok', content: '' }, { path: 'a/../../x', content: '' }], 'files[1].path'],
    [[{ path: '/etc/passwd', content: '' }], 'files[0].path'],
    [[{ path: 'a\u0000b', content: '' }], 'files[0].path'],
    [[{ path: 'main.sh', content: '' }, { path: './main.sh', content: '' }], 'files[1].path'],
    [[{ path: 'x', content: '', owner: 'root' }], 'files[0].owner'],
  ];
  for (const [files, field] of cases) {
    const res = await run({ language: 'sh', files });
    t.equal(res.status, 400, JSON.stringify(files));
    t.match(res.body.error, { code: 'SLIPWAY_ERR_INVALID_INPUT', field });
  }
  const volumes = await docker.listVolumes({ filters: { label: [`${LABEL_INSTANCE}=${INSTANCE}`] } });
  // Earlier tests' runs filled the gateway's shared agent volume: it is no run's.
  t.same((volumes.Volumes ?? []).filter((v) => v.Labels?.[LABEL_KIND] !== 'agent'), [], 'no volume');
  const containers = await docker.listContainers({ all: true, filters: { label: [`${LABEL_INSTANCE}=${INSTANCE}`] } });
  t.same(containers, [], 'no container');
  t.same(await createdSince(INSTANCE, since), [], 'the engine saw nothing created');
});

t.test('neither language nor image, or no files, is a 400 naming what is missing', async (t) => {
  t.match((await run({ payload: 'x' })).body.error, { field: 'language' });
  t.match((await run({ image: BUSYBOX_IMAGE, payload: 'x' })).body.error, { field: 'command' });
  t.match((await run({ language: 'sh' })).body.error, { field: 'files' });
  t.match((await run({ language: 'cobol', payload: 'x' })).body.error, { field: 'language' });
});
