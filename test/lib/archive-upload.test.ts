// The gateway's check of an uploaded tar (lib/sandboxes/archive-upload.ts), entry by
// entry, without a sandbox: what passes is packed again with clean headers, and each
// refusal names the entry.
import t from 'tap';
import { checkArchive } from '../../lib/sandboxes/archive-upload.js';
import { makeTar, readTar } from '../fixtures/tar.js';

t.test('files, directories and links inside pass, repacked without owners or setuid bits, with the paths the sandbox must check', async (t) => {
  const tar = await makeTar([
    { name: './', type: 'directory' },
    { name: './lib/', type: 'directory', mode: 0o500 },
    { name: './lib/tool', content: 'x', mode: 0o6755 },
    { name: './lib/up', type: 'symlink', linkname: '../../sibling' },
  ]);
  const checked = await checkArchive(tar, 'deep/dir');
  t.same(checked.paths, ['deep/dir/lib', 'deep/dir/lib/tool', 'deep/sibling', 'deep/dir/lib/up']);
  t.equal(checked.entries, 4);
  t.equal(checked.bytes, 1);
  const entries = await readTar(checked.tar);
  t.equal(entries.get('lib/tool')?.mode, 0o755, 'setuid and setgid dropped');
  t.equal(entries.get('lib')?.mode, 0o700, 'a directory stays writable by its owner');
  t.match(entries.get('lib/up'), { type: 'symlink', linkname: '../../sibling' });
  t.notOk(entries.has('.'), 'the archive root is the target directory itself');
});

t.test('links that would lead out, lexically or through another link of the archive, are refused', async (t) => {
  const refused: [string, Parameters<typeof makeTar>[0], RegExp][] = [
    ['climbing past /workspace from a subdirectory', [{ name: 'up', type: 'symlink', linkname: '../../..' }], /leads outside/],
    ['.. after a name (a link to . then its parent)', [{ name: 'a', type: 'symlink', linkname: '.' }, { name: 'c', type: 'symlink', linkname: 'a/..' }], /only leading \.\. is accepted/],
    ['a link through a link of the archive', [{ name: 'a', type: 'symlink', linkname: 'x' }, { name: 'b', type: 'symlink', linkname: 'a/y' }], /through the link sub\/a /],
    ['a newline in a name', [{ name: 'bad\nname', content: 'x' }], /NUL or newline/],
  ];
  for (const [what, entries, message] of refused) {
    await t.rejects(checkArchive(await makeTar(entries), 'sub'), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'body', message }, what);
  }
  await t.rejects(checkArchive(Buffer.alloc(1024), ''), { field: 'body', message: /no entries/ }, 'an empty archive');
});
