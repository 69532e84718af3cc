import t from 'tap';
import tarStream from 'tar-stream';
import { MAX_PAYLOAD_BYTES, packFiles, prepareFiles, type PreparedFile } from '../../lib/payload-files.js';

interface Entry {
  name: string;
  type: string;
  mode: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
  content: Buffer;
}

async function untar(tar: Buffer): Promise<Entry[]> {
  const entries: Entry[] = [];
  const extract = tarStream.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, body, next) => {
      const chunks: Buffer[] = [];
      body.on('data', (c: unknown) => chunks.push(c as Buffer));
      body.on('end', () => {
        entries.push({ name: header.name, type: header.type ?? 'file', mode: header.mode, uid: header.uid, gid: header.gid, content: Buffer.concat(chunks) });
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.end(tar);
  await done;
  return entries;
}

const invalid = (field: string, message?: RegExp) => ({ code: 'SLIPWAY_ERR_INVALID_INPUT', statusCode: 400, field, ...(message ? { message } : {}) });

t.test('paths are normalised; content is utf8 unless base64; mode defaults to 0644', async (t) => {
  const files = prepareFiles([
    { path: 'main.py', content: 'print("é")' },
    { path: './pkg//util.py', content: '', mode: 0o755 },
    { path: 'a/./b/', content: 'AP8Q/w==', encoding: 'base64' },
    { path: 'data.txt', content: 'AP8Q/w==', encoding: 'utf8' },
  ]);
  t.strictSame(files.map((f) => f.path), ['main.py', 'pkg/util.py', 'a/b', 'data.txt']);
  t.same(files[0]!.content, Buffer.from('print("é")', 'utf8'));
  t.equal(files[0]!.content.length, 11, 'é is two bytes');
  t.equal(files[0]!.mode, 0o644);
  t.equal(files[1]!.mode, 0o755);
  t.same(files[2]!.content, Buffer.from([0x00, 0xff, 0x10, 0xff]), 'base64 decodes to raw bytes');
  t.equal(files[3]!.content.toString(), 'AP8Q/w==', 'utf8 content is taken literally');
  t.equal(prepareFiles([{ path: 'x', content: '', mode: 0 }])[0]!.mode, 0o644, 'mode 0 still gives a readable file');
});

t.test('escapes, absolute paths, NUL bytes and backslashes are refused naming the field', async (t) => {
  const ok = { path: 'ok.txt', content: '' };
  for (const path of ['../x', 'a/../../x', 'a/..', '..', 'a/../b']) {
    t.throws(() => prepareFiles([ok, { path, content: '' }]), invalid('files[1].path', /\.\./), path);
  }
  for (const path of ['/etc/passwd', '/', '//x']) t.throws(() => prepareFiles([{ path, content: '' }]), invalid('files[0].path', /relative/), path);
  for (const path of ['a\\b', '..\\x', 'C:\\x']) t.throws(() => prepareFiles([{ path, content: '' }]), invalid('files[0].path', /relative/), path);
  t.throws(() => prepareFiles([ok, { path: 'a\0.txt', content: '' }]), invalid('files[1].path', /NUL/));
  for (const path of ['.', './', './/', '']) t.throws(() => prepareFiles([{ path, content: '' }]), invalid('files[0].path', /must name a file/), JSON.stringify(path));
  t.throws(() => prepareFiles([{ path: '../x', content: '' }], (i) => `repo.files[${i}].path`), invalid('repo.files[0].path'), 'the caller names the field');
});

t.test('two paths that normalise alike are duplicates', async (t) => {
  const pairs: [string, string][] = [
    ['a/b', 'a/b'],
    ['a/./b', 'a/b'],
    ['a/b', './a/b'],
    ['a//b', 'a/b'],
    ['a/b/', 'a/b'],
  ];
  for (const [first, second] of pairs) {
    t.throws(() => prepareFiles([{ path: first, content: '1' }, { path: second, content: '2' }]), invalid('files[1].path', /duplicates another file's path \(a\/b\)/), `${first} vs ${second}`);
  }
  t.equal(prepareFiles([{ path: 'A', content: '' }, { path: 'a', content: '' }]).length, 2, 'case differs: two files');
});

t.test('a path used both as a file and as a directory is refused', async (t) => {
  // Otherwise the engine refuses the archive half-unpacked ("cannot overwrite directory
  // /w/a with non-directory", Docker 20.10): an engine error instead of a 400 naming the field.
  t.throws(() => prepareFiles([{ path: 'a/b.txt', content: '' }, { path: 'a', content: '' }]), invalid('files[1].path'));
  t.throws(() => prepareFiles([{ path: 'a', content: '' }, { path: 'a/b.txt', content: '' }]), invalid('files[1].path'));
});

t.test('the payload may total MAX_PAYLOAD_BYTES, not one byte more', async (t) => {
  const half = 'x'.repeat(MAX_PAYLOAD_BYTES / 2);
  t.equal(prepareFiles([{ path: 'a', content: half }, { path: 'b', content: half }]).length, 2);
  t.throws(
    () => prepareFiles([{ path: 'a', content: half }, { path: 'b', content: half }, { path: 'c', content: 'y' }]),
    invalid('files[2].content', new RegExp(`${MAX_PAYLOAD_BYTES} bytes`)),
  );
  // Counted in decoded bytes: 4 base64 characters are 3 bytes.
  const b64 = Buffer.alloc(MAX_PAYLOAD_BYTES).toString('base64');
  t.equal(prepareFiles([{ path: 'a', content: b64, encoding: 'base64' }])[0]!.content.length, MAX_PAYLOAD_BYTES);
  t.throws(() => prepareFiles([{ path: 'a', content: 'é'.repeat(MAX_PAYLOAD_BYTES / 2 + 1) }]), invalid('files[0].content'), 'utf8 counted in bytes, not characters');
});

t.test('only the executable bit of a mode is honoured: nothing is ever writable by the run', async (t) => {
  const modes = [0o777, 0o666, 0o700, 0o722, 0o100, 0o001, 0o644, 0o600, 0o002, 0o020, 0];
  const prepared = prepareFiles(modes.map((mode, i) => ({ path: `f${i}`, content: '', mode })));
  t.strictSame(prepared.map((f) => f.mode), [0o755, 0o644, 0o755, 0o755, 0o755, 0o755, 0o644, 0o644, 0o644, 0o644, 0o644]);
  for (const f of prepared) t.equal(f.mode & 0o022, 0, `${f.path}: no group or other write bit`);
});

t.test('packFiles: one entry per file, each parent directory once, all owned by root, modes normalised', async (t) => {
  const files: PreparedFile[] = [
    { path: 'a/b/c.txt', content: Buffer.from('c'), mode: 0o644 },
    { path: 'a/b/d.sh', content: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
    { path: 'a/e.bin', content: Buffer.from([0, 1, 2, 255]), mode: 0o600 },
    { path: 'top.py', content: Buffer.alloc(0), mode: 0o644 },
    { path: 'z/y/x/w', content: Buffer.from('deep'), mode: 0o400 },
  ];
  const entries = await untar(await packFiles(files));
  t.strictSame(
    entries.map((e) => [e.name, e.type, e.mode]),
    [
      ['a', 'directory', 0o755],
      ['a/b', 'directory', 0o755],
      ['a/b/c.txt', 'file', 0o644],
      ['a/b/d.sh', 'file', 0o755],
      ['a/e.bin', 'file', 0o644],
      ['top.py', 'file', 0o644],
      ['z', 'directory', 0o755],
      ['z/y', 'directory', 0o755],
      ['z/y/x', 'directory', 0o755],
      ['z/y/x/w', 'file', 0o644],
    ],
  );
  for (const e of entries) t.match(e, { uid: 0, gid: 0 }, `${e.name} is root's`);
  for (const f of files) t.same(entries.find((e) => e.name === f.path)!.content, f.content, `${f.path} content`);
});

t.test('packFiles of prepared files round-trips binary content; no files is an empty archive', async (t) => {
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const entries = await untar(await packFiles(prepareFiles([{ path: 'bin/all-bytes', content: bytes.toString('base64'), encoding: 'base64' }])));
  t.strictSame(entries.map((e) => e.name), ['bin', 'bin/all-bytes']);
  t.same(entries[1]!.content, bytes);
  t.strictSame(await untar(await packFiles([])), []);
});
