// POST /v1/payloads/run on the real engine: files go in through putArchive, runs are non-root.
import t from 'tap';
import { startGateway } from '../fixtures/gateway.js';
import { createdSince, waitUntilGone } from '../fixtures/engine-view.js';
import { docker, TEST_INSTANCE } from '../fixtures/docker.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { LABEL_INSTANCE } from '../../lib/labels.js';

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

t.test('the workspace is not writable by the payload; /tmp is', async (t) => {
  const res = await run({ language: 'sh', payload: 'touch /workspace/x 2>/dev/null && echo ws-writable; touch /tmp/y && echo tmp-writable' });
  t.match(res.body, { success: true, stdout: 'tmp-writable\n' });
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
  t.same(volumes.Volumes ?? [], [], 'no volume');
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
