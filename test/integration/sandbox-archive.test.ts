// Tar archives in and out of a sandbox on the real engine: an upload unpacked by the
// agent as the sandbox user, read by an exec, downloaded again with the same contents;
// both bounded by SLIPWAY_SANDBOX_ARCHIVE_MAX_BYTES; another caller's sandbox a 404.
import t from 'tap';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { removeSandboxesOf } from '../fixtures/sandboxes.js';
import { makeTar, readTar } from '../fixtures/tar.js';
import { bearer, writeTokensFile } from '../fixtures/tokens.js';

const MIB = 1024 * 1024;
const tokensFile = await writeTokensFile([
  { name: 'alice', token: 'alice-token', scopes: ['run', 'read'] },
  { name: 'bob', token: 'bob-token', scopes: ['run', 'read'] },
  { name: 'reader', token: 'reader-token', scopes: ['read'] },
]);
const gw = await startGateway({ SLIPWAY_TOKENS_FILE: tokensFile, SLIPWAY_SANDBOX_ARCHIVE_MAX_BYTES: String(MIB) });
t.teardown(async () => {
  await gw.close();
  await removeSandboxesOf(gw.instance);
});
const alice = bearer('alice-token');
const box = (await gw.request('POST', '/v1/sandboxes', { image: BUSYBOX_IMAGE, memory_limit: '128m' }, alice)).body;
t.teardown(() => gw.request('DELETE', `/v1/sandboxes/${box.sandbox_id}`, undefined, alice));
const archiveUrl = (path: string, id = box.sandbox_id) => `${gw.url}/v1/sandboxes/${id}/files/archive?path=${encodeURIComponent(path)}`;
const exec = async (command: string[]) => (await gw.request('POST', `/v1/sandboxes/${box.sandbox_id}/exec`, { command }, alice)).body;

async function upload(path: string, tar: Buffer, headers: Record<string, string> = alice, id?: string) {
  const res = await fetch(archiveUrl(path, id), { method: 'PUT', headers: { ...headers, 'content-type': 'application/x-tar' }, body: new Uint8Array(tar) });
  return { status: res.status, body: (await res.json()) as any };
}

async function download(path: string, headers: Record<string, string> = alice, id?: string) {
  const res = await fetch(archiveUrl(path, id), { headers });
  return { status: res.status, type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
}

t.test('a tar uploaded into a sandbox is read by an exec and downloads again with the same files, modes and links', async (t) => {
  const tar = await makeTar([
    { name: 'src/', type: 'directory' },
    { name: 'src/a.txt', content: 'hello from a tar\n' },
    { name: 'src/bin/run.sh', content: '#!/bin/sh\necho ran\n', mode: 0o4755 },
    { name: 'src/link', type: 'symlink', linkname: 'a.txt' },
  ]);
  const up = await upload('.', tar);
  t.equal(up.status, 200, JSON.stringify(up.body));
  t.same(up.body, { sandbox_id: box.sandbox_id, path: '/workspace', entries: 4, bytes: 36 });
  const read = await exec(['sh', '-c', 'cat src/link; sh src/bin/run.sh; stat -c "%a %U" src/bin/run.sh']);
  t.equal(read.stdout, 'hello from a tar\nran\n755 nobody\n', 'an exec reads the files through the link and the script, owned by the sandbox user, setuid bit dropped');

  const down = await download('src');
  t.equal(down.status, 200);
  t.equal(down.type, 'application/x-tar');
  const entries = await readTar(down.bytes);
  t.equal(entries.get('a.txt')?.content, 'hello from a tar\n');
  t.equal(entries.get('bin/run.sh')?.content, '#!/bin/sh\necho ran\n');
  t.equal((entries.get('bin/run.sh')?.mode ?? 0) & 0o777, 0o755);
  t.match(entries.get('link'), { type: 'symlink', linkname: 'a.txt' }, 'a link comes back as a link');
});

t.test('a link in the workspace pointing out of it is archived as a link, never followed, and a path leading out is refused', async (t) => {
  await exec(['sh', '-c', 'mkdir -p out && ln -s /etc out/etc && ln -s /etc etclink']);
  const entries = await readTar((await download('out')).bytes);
  t.match(entries.get('etc'), { type: 'symlink', linkname: '/etc' });
  t.equal([...entries.keys()].filter((name) => name.startsWith('etc/')).length, 0, 'nothing of /etc is in the archive');
  const outside = await download('etclink');
  t.equal(outside.status, 400, 'a path that resolves outside /workspace is refused');
  t.match(JSON.parse(outside.bytes.toString()), { error: { field: 'path', message: /outside \/workspace/ } });
  t.equal((await download('../etc')).status, 400);
  t.equal((await download('nothing-here')).status, 404);
  const made = await upload('made/here', await makeTar([{ name: 'f.txt', content: 'f' }]));
  t.match(made, { status: 200, body: { path: '/workspace/made/here' } }, 'an upload makes its target directory');
  t.equal((await exec(['cat', 'made/here/f.txt'])).stdout, 'f');
  t.match(await upload('out/etc/x', await makeTar([{ name: 'f.txt', content: 'f' }])), { status: 400, body: { error: { field: 'body', message: /symbolic link/ } } }, 'but not through a link');
});

t.test('archives are bounded by SLIPWAY_SANDBOX_ARCHIVE_MAX_BYTES both ways, with a 413 before anything runs or is sent', async (t) => {
  const big = await makeTar([{ name: 'big.bin', content: Buffer.alloc(2 * MIB, 1) }]);
  const up = await upload('.', big);
  t.match(up, { status: 413, body: { error: { code: 'SLIPWAY_ERR_PAYLOAD_TOO_LARGE' } } });
  t.equal((await exec(['ls', 'big.bin'])).exit_code, 1, 'nothing was written');
  await exec(['sh', '-c', 'mkdir -p large && dd if=/dev/zero of=large/f bs=1M count=2 2>/dev/null']);
  const down = await download('large');
  t.equal(down.status, 413);
  t.match(JSON.parse(down.bytes.toString()), { error: { code: 'SLIPWAY_ERR_PAYLOAD_TOO_LARGE', field: 'path', message: /SLIPWAY_SANDBOX_ARCHIVE_MAX_BYTES/ } });
});

t.test('another caller gets 404 for upload and download, and a read token cannot upload', async (t) => {
  const tar = await makeTar([{ name: 'x.txt', content: 'x' }]);
  t.match(await upload('.', tar, bearer('bob-token')), { status: 404, body: { error: { code: 'SLIPWAY_ERR_SANDBOX_NOT_FOUND' } } });
  t.equal((await download('.', bearer('bob-token'))).status, 404);
  t.match(await upload('.', tar, bearer('reader-token')), { status: 403, body: { error: { code: 'SLIPWAY_ERR_SCOPE_MISSING' } } });
  t.equal((await download('src', bearer('reader-token'))).status, 404, 'the read scope lets a download through to the ownership check, which hides the sandbox');
  t.equal((await exec(['ls', 'x.txt'])).exit_code, 1, 'nothing was written by the refused uploads');
});

t.test('one caller may send only SLIPWAY_SANDBOX_ARCHIVE_UPLOADS_PER_CALLER uploads at once: the next is a 429, another caller is served', async (t) => {
  const { request } = await import('node:http');
  const tar = await makeTar([{ name: 'slow.txt', content: 'held\n' }]);
  // Three uploads whose bodies stop after their first block: none can finish, so whichever
  // the server counts third is refused at once, and the other two hold their places.
  const held = [0, 1, 2].map(() => {
    const req = request(archiveUrl('.'), { method: 'PUT', headers: { ...alice, 'content-type': 'application/x-tar', 'content-length': String(tar.length) } });
    const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
    });
    req.write(tar.subarray(0, 512));
    return { req, answered };
  });
  const first = await Promise.race(held.map((h, n) => h.answered.then((answer) => ({ n, answer }))));
  t.equal(first.answer.status, 429, 'the third upload in flight is refused while the other two wait for their bodies');
  t.equal(JSON.parse(first.answer.body).error.code, 'SLIPWAY_ERR_RATE_LIMITED');
  held[first.n]!.req.destroy();
  const waiting = held.filter((_, n) => n !== first.n);
  const bobBox = (await gw.request('POST', '/v1/sandboxes', { image: BUSYBOX_IMAGE, memory_limit: '128m' }, bearer('bob-token'))).body;
  t.teardown(() => gw.request('DELETE', `/v1/sandboxes/${bobBox.sandbox_id}`, undefined, bearer('bob-token')));
  t.equal((await upload('.', tar, bearer('bob-token'), bobBox.sandbox_id)).status, 200, "another caller's upload is served meanwhile");
  for (const { req } of waiting) req.end(tar.subarray(512));
  t.same((await Promise.all(waiting.map((h) => h.answered))).map((a) => a.status), [200, 200], 'the two held uploads complete');
  t.equal((await upload('.', tar)).status, 200, 'and the caller may upload again');
});
