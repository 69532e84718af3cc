// Escape attempts against a sandbox, on the real engine: links planted in the workspace
// to read or write outside it, paths that climb out, a disk fill, a fork bomb. Each ends
// refused or bounded, and the sandbox still works afterwards.
import t from 'tap';
import { startGateway } from '../fixtures/gateway.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';
import { inspectContainer, removeSandboxesOf } from '../fixtures/sandboxes.js';
import { makeTar, type TarEntry } from '../fixtures/tar.js';

const gw = await startGateway({ SLIPWAY_SANDBOX_WORKSPACE_BYTES: String(8 * 1024 * 1024), SLIPWAY_PIDS_DEFAULT: '64', SLIPWAY_SANDBOX_ARCHIVE_MAX_BYTES: String(1024 * 1024) });
t.teardown(async () => {
  await gw.close();
  await removeSandboxesOf(gw.instance);
});

const created = await gw.request('POST', '/v1/sandboxes', { image: BUSYBOX_IMAGE, memory_limit: '128m' });
const id = created.body.sandbox_id as string;
t.teardown(() => gw.request('DELETE', `/v1/sandboxes/${id}`));
const exec = (command: string[] | string, extra: Record<string, unknown> = {}) => gw.request('POST', `/v1/sandboxes/${id}/exec`, { command, ...extra });
const read = (path: string) => gw.request('GET', `/v1/sandboxes/${id}/files/content?path=${encodeURIComponent(path)}`);
const list = (path: string) => gw.request('GET', `/v1/sandboxes/${id}/files?path=${encodeURIComponent(path)}`);
const upload = async (entries: TarEntry[] | Buffer, path = '.') => {
  const body = Buffer.isBuffer(entries) ? entries : await makeTar(entries);
  const res = await fetch(`${gw.url}/v1/sandboxes/${id}/files/archive?path=${encodeURIComponent(path)}`, { method: 'PUT', headers: { 'content-type': 'application/x-tar' }, body: new Uint8Array(body) });
  return { status: res.status, body: (await res.json()) as any };
};
const write = (files: { path: string; content: string }[]) => gw.request('POST', `/v1/sandboxes/${id}/files`, { files });

t.test('a link in the workspace pointing at /etc/passwd cannot be read or written through', async (t) => {
  await exec(['sh', '-c', 'ln -s /etc/passwd passwd && ln -s /etc etc && mkdir -p d && ln -s /tmp d/out']);
  const viaLink = await read('passwd');
  t.match(viaLink, { status: 400, body: { error: { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'path', message: /outside \/workspace/ } } });
  t.equal((await read('etc/passwd')).status, 400, 'nor through a linked directory');
  t.equal((await list('etc')).status, 400, 'a linked directory is not listed');
  const overwrite = await write([{ path: 'passwd', content: 'root::0:0::/:/bin/sh\n' }]);
  t.match(overwrite, { status: 400, body: { error: { field: 'files[0].path', message: /symbolic link/ } } });
  const through = await write([{ path: 'd/out/planted', content: 'x' }]);
  t.equal(through.status, 400, 'nor through a linked parent directory');
  t.equal((await exec('ls /tmp')).body.stdout, '', 'nothing reached /tmp');
  const listing = await list('.');
  t.match(listing.body.entries.find((e: any) => e.name === 'passwd'), { type: 'symlink' }, 'the listing shows the link as a link');
});

t.test('paths that climb out of the workspace are refused before anything runs', async (t) => {
  for (const path of ['../etc/passwd', '/etc/passwd', '/workspace/../etc/passwd', 'a/\u0000b']) {
    const res = await read(path);
    t.match(res, { status: 400, body: { error: { field: 'path' } } }, `read ${JSON.stringify(path)}`);
  }
  for (const path of ['../escape', '/etc/escape', 'a/../../escape']) {
    const res = await write([{ path, content: 'x' }]);
    t.match(res, { status: 400, body: { error: { field: 'files[0].path' } } }, `write ${JSON.stringify(path)}`);
  }
  const outside = await exec(['sh', '-c', 'echo x > /etc/escape']);
  t.match(outside.body, { status: 'failed' }, 'an exec cannot write outside either: the root is read-only');
  t.match(outside.body.stderr, /Read-only file system/);
});

t.test('filling the workspace ends in ENOSPC at its bound, and the sandbox works on', async (t) => {
  const fill = await exec(['sh', '-c', 'dd if=/dev/zero of=big bs=1M count=64'], { timeout: 30 });
  t.match(fill.body, { status: 'failed' });
  t.match(fill.body.stderr, /No space left on device/);
  const df = await exec(['sh', '-c', 'du -k big | cut -f1']);
  t.ok(Number(df.body.stdout) <= 8 * 1024, `the file stopped at the bound (${df.body.stdout.trim()} KiB)`);
  const full = await write([{ path: 'more.txt', content: 'y'.repeat(64 * 1024) }]);
  t.match(full, { status: 413, body: { error: { code: 'SLIPWAY_ERR_PAYLOAD_TOO_LARGE', field: 'files' } } }, 'a write into a full workspace is a clear 413');
  await exec('rm big');
  t.equal((await write([{ path: 'more.txt', content: 'ok' }])).status, 200, 'room again once the file is gone');
});

t.test('a fork bomb in an exec meets the pids limit, is killed at its timeout, and the next exec works', async (t) => {
  const bomb = await exec(['sh', '-c', 'b() { b | b & }; b; sleep 30'], { timeout: 3 });
  // Bounded either way: it runs into its timeout, or the shell's own last fork (`sleep 30`)
  // meets the pids limit first and it ends failed. What matters is what follows.
  t.match(bomb.body.status, /^(timed_out|failed)$/, JSON.stringify(bomb.body).slice(0, 300));
  const next = await exec(['sh', '-c', 'echo alive; ps -o pid | wc -l']);
  t.equal(next.body.status, 'succeeded');
  t.match(next.body.stdout, /^alive\n/);
  t.ok(Number(next.body.stdout.split('\n')[1]) < 10, `the bomb's processes are gone (${next.body.stdout.split('\n')[1]} lines of ps)`);
});

t.test('an exec cannot stop its sandbox: killing every process it may signal, or the keep-alive, leaves the container running', async (t) => {
  const ps = await exec(['ps', '-o', 'pid,user,args']);
  const keeper = ps.body.stdout.split('\n').find((line: string) => line.includes('sleep 2147483647'));
  t.ok(keeper, `the keep-alive is listed: ${ps.body.stdout}`);
  t.notMatch(keeper, /65534|nobody/, 'and runs as another uid than the exec');
  const pid = keeper.trim().split(/\s+/)[0];
  const direct = await exec(['sh', '-c', `kill -9 ${pid} 1; kill -TERM 1; echo kill=$?`]);
  t.match(direct.body.stderr, /not permitted/i, 'signalling the keep-alive or the init is not permitted');
  const all = await exec(['sh', '-c', 'sleep 300 & kill -9 -1; wait $!; echo sibling=$?']);
  t.equal(all.body.stdout, 'sibling=137\n', 'kill -9 -1 reaches the exec\'s own processes only');
  const info = await inspectContainer(created.body.container_id);
  t.equal(info.State.Running, true, 'the container still runs');
  t.match((await exec('echo alive')).body, { status: 'succeeded', stdout: 'alive\n' }, 'and takes the next exec');
});

t.test('a tar with .., absolute paths, links out, writes through its own link or a planted one, or devices is refused whole, and nothing is written', async (t) => {
  await exec(['sh', '-c', 'mkdir -p tarred && ln -s /tmp tarred/planted']);
  const attacks: [string, TarEntry[], RegExp][] = [
    ['.. in a path', [{ name: 'ok.txt', content: 'x' }, { name: '../escape.txt', content: 'x' }], /entry 1 .*climbs out/],
    ['an absolute path', [{ name: '/tmp/abs.txt', content: 'x' }], /absolute path/],
    ['a link to an absolute path', [{ name: 'out', type: 'symlink', linkname: '/tmp' }], /absolute path \/tmp/],
    ['a link climbing out', [{ name: 'out', type: 'symlink', linkname: '../../tmp' }], /leads outside \/workspace/],
    ['a link, then a file through it', [{ name: 'in', type: 'symlink', linkname: '.' }, { name: 'in/through.txt', content: 'x' }], /goes through the link in/],
    ['a hard link', [{ name: 'f.txt', content: 'x' }, { name: 'h', type: 'link', linkname: 'f.txt' }], /hard link/],
    ['a device node', [{ name: 'null', type: 'character-device' }], /only files, directories and symbolic links/],
    ['a fifo', [{ name: 'pipe', type: 'fifo' }], /only files, directories and symbolic links/],
  ];
  for (const [what, entries, message] of attacks) {
    const res = await upload(entries);
    t.match(res, { status: 400, body: { error: { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'body', message } } }, what);
  }
  const planted = await upload([{ name: 'tarred/planted/p.txt', content: 'x' }]);
  t.match(planted, { status: 400, body: { error: { field: 'body', message: /tarred\/planted\/p.txt goes through a symbolic link/ } } }, 'a file through a link an exec planted');
  t.equal((await exec('ls /tmp')).body.stdout, '', 'nothing reached /tmp');
  t.equal((await exec(['ls', 'ok.txt', 'f.txt'])).body.exit_code, 1, 'nothing of a refused archive was written, not even its good entries');
});

t.test('a tar over the archive bound is a 413 before it reaches the sandbox, and garbage is a 400', async (t) => {
  const huge = await upload([{ name: 'huge.bin', content: Buffer.alloc(2 * 1024 * 1024) }]);
  t.match(huge, { status: 413, body: { error: { code: 'SLIPWAY_ERR_PAYLOAD_TOO_LARGE' } } });
  const garbage = await upload(Buffer.from('this is not a tar archive at all'.repeat(40)));
  t.match(garbage, { status: 400, body: { error: { field: 'body' } } });
  t.equal((await exec(['ls', 'huge.bin'])).body.exit_code, 1);
});
