// CloneFs, the bounded fs isomorphic-git writes a clone through: bytes and entries are
// counted before each write, calls under way (descriptors) are capped, and the first
// refusal sticks. Against a real temporary directory, and a slow fake for the cap.
import t from 'tap';
import * as fsp from 'node:fs/promises';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloneFs } from '../../lib/git-clone-fs.js';

async function tempDirs(t: Tap) {
  const root = await mkdtemp(join(tmpdir(), 'slipway-clone-fs-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await fsp.mkdir(join(root, 'tree'));
  await fsp.mkdir(join(root, 'git'));
  return { root, tree: join(root, 'tree'), gitdir: join(root, 'git') };
}
type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

t.test('a write past the byte bound fails before anything is written, and every later call fails the same way', async (t) => {
  const { tree } = await tempDirs(t);
  const fs = new CloneFs({ maxBytes: 10, maxFiles: 100, maxOpen: 4, treeDir: tree });
  await fs.promises.writeFile(join(tree, 'a'), '123456');
  await t.rejects(fs.promises.writeFile(join(tree, 'b'), '123456'), { code: 'SLIPWAY_ERR_REPO_TOO_LARGE', field: 'repo_url', message: /limit of 10 bytes on disk \(SLIPWAY_GIT_CLONE_DISK_MAX_BYTES\)/ });
  t.same(await readdir(tree), ['a'], 'the refused file was never created');
  t.equal(fs.failure?.code, 'SLIPWAY_ERR_REPO_TOO_LARGE', 'the refusal is kept');
  await t.rejects(fs.promises.readFile(join(tree, 'a')), fs.failure!, 'later calls, reads too, fail with it');
});

t.test('files, directories and links in the working tree count toward the file bound; the git directory does not', async (t) => {
  const { tree, gitdir } = await tempDirs(t);
  const fs = new CloneFs({ maxBytes: 1 << 20, maxFiles: 3, maxOpen: 4, treeDir: tree });
  for (let i = 0; i < 10; i++) await fs.promises.writeFile(join(gitdir, `object-${i}`), 'x');
  await fs.promises.mkdir(join(tree, 'dir'));
  await fs.promises.writeFile(join(tree, 'dir', 'file'), 'x');
  await fs.promises.symlink('file', join(tree, 'dir', 'link'));
  t.equal(fs.filesCreated, 3);
  await t.rejects(fs.promises.writeFile(join(tree, 'one-too-many'), ''), { code: 'SLIPWAY_ERR_REPO_TOO_LARGE', message: /more than 3 files and directories \(SLIPWAY_GIT_MAX_FILES\)/ });
  t.same((await readdir(tree)).sort(), ['dir'], 'the fourth entry was never created');
});

t.test('no more calls than the handle bound are under way at once, however many are started', async (t) => {
  let open = 0;
  let peak = 0;
  const slow = async () => {
    open++;
    peak = Math.max(peak, open);
    await new Promise((r) => setTimeout(r, 2));
    open--;
  };
  const fake = Object.fromEntries(['readFile', 'writeFile', 'mkdir', 'rmdir', 'unlink', 'stat', 'lstat', 'readdir', 'readlink', 'symlink', 'rm'].map((n) => [n, slow])) as any;
  const fs = new CloneFs({ maxBytes: 1 << 30, maxFiles: 1 << 20, maxOpen: 5, treeDir: '/nowhere' }, fake);
  await Promise.all(Array.from({ length: 500 }, (_, i) => (i % 2 ? fs.promises.writeFile(`/elsewhere/${i}`, 'x') : fs.promises.lstat(`/elsewhere/${i}`))));
  t.equal(peak, 5, 'the underlying fs saw at most 5 calls at once');
  t.equal(fs.peakOpen, 5);
});

t.test('isomorphic-git can use it: a call without arguments still returns a promise', async (t) => {
  const { tree } = await tempDirs(t);
  const fs = new CloneFs({ maxBytes: 1 << 20, maxFiles: 10, maxOpen: 2, treeDir: tree });
  const probe = (fs.promises.readFile as unknown as () => Promise<unknown>)();
  t.ok(probe instanceof Promise);
  await probe.catch(() => undefined);
});

t.test('a creation that fails (a directory that exists) does not count toward the file bound', async (t) => {
  const { tree } = await tempDirs(t);
  const fs = new CloneFs({ maxBytes: 1 << 20, maxFiles: 2, maxOpen: 4, treeDir: tree });
  await fs.promises.mkdir(join(tree, 'dir'));
  await t.rejects(fs.promises.mkdir(join(tree, 'dir')), { code: 'EEXIST' });
  t.equal(fs.filesCreated, 1);
  await fs.promises.writeFile(join(tree, 'dir', 'file'), 'x');
  t.equal(fs.failure, undefined, 'the second entry is still within the bound');
});
