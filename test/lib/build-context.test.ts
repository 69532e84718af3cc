import t from 'tap';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import tarStream from 'tar-stream';
import type { Readable } from 'node:stream';
import { cleanRelativePath, dockerignoreMatcher, prepareBuildContext } from '../../lib/build-context.js';

const MIB = 1024 * 1024;

async function tree(files: Record<string, string>, links: Record<string, string> = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'slipway-ctx-test-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  for (const [path, target] of Object.entries(links)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await symlink(target, join(root, path));
  }
  return root;
}

interface TarEntry {
  type: string;
  linkname?: string | null | undefined;
  content: string;
}

async function untar(stream: Readable): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>();
  const extract = tarStream.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, body, next) => {
      const chunks: Buffer[] = [];
      body.on('data', (c: unknown) => chunks.push(c as Buffer));
      body.on('end', () => {
        entries.set(header.name, { type: header.type ?? 'file', linkname: header.linkname, content: Buffer.concat(chunks).toString() });
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  stream.pipe(extract as unknown as NodeJS.WritableStream);
  await done;
  return entries;
}

t.test('.dockerignore: patterns, directories, exceptions, and the files always sent', async (t) => {
  const root = await tree({
    'Dockerfile': 'FROM scratch\n',
    '.dockerignore': '# a comment\nsecret.txt\nlogs\n*.tmp\n!keep.tmp\n**/*.log\n!**/important.log\n/build\nDockerfile\n.dockerignore\ndocs/*\n!docs/README.md\n',
    'secret.txt': 's',
    'logs/a.txt': 'a',
    'scratch.tmp': 't',
    'keep.tmp': 'k',
    'deep/er/x.log': 'x',
    'deep/er/important.log': 'i',
    'deep/er/code.c': 'c',
    'build/out.bin': 'b',
    'src/build/keep.c': 'nested build dir is not /build',
    'docs/guide.md': 'g',
    'docs/README.md': 'r',
    'Secret.txt': 'case matters on Linux',
  });
  const ctx = await prepareBuildContext(root, { contextPath: '.', dockerfilePath: 'Dockerfile', maxBytes: MIB });
  const files = ctx.entries.filter((e) => !['deep', 'deep/er', 'src', 'src/build', 'docs'].includes(e));
  t.same(files.sort(), ['.dockerignore', 'Dockerfile', 'Secret.txt', 'deep/er/code.c', 'deep/er/important.log', 'docs/README.md', 'keep.tmp', 'src/build/keep.c'].sort());
  t.equal(ctx.dockerfile, 'Dockerfile');
  const tar = await untar(ctx.pack());
  t.equal(tar.get('keep.tmp')?.content, 'k');
  t.notOk(tar.has('secret.txt'));
  t.notOk(tar.has('logs/a.txt'));
});

t.test('the matcher follows moby: parent directories match, exceptions reach into ignored dirs', async (t) => {
  const m = dockerignoreMatcher('vendor\n!vendor/keep/**\n*/temp*\n', 'Dockerfile');
  t.equal(m.ignores('vendor/lib/x.js'), true);
  t.equal(m.ignores('vendor/keep/x.js'), false);
  t.equal(m.mayReach('vendor'), true);
  t.equal(m.ignores('a/temporary'), true);
  t.equal(m.ignores('temporary'), false, '*/temp* needs one directory level');
  const anchored = dockerignoreMatcher('**/*.log\n!important.log\n', 'Dockerfile');
  t.equal(anchored.ignores('important.log'), false);
  t.equal(anchored.ignores('deep/important.log'), true, 'patterns are anchored at the context root');
  const plain = dockerignoreMatcher('node_modules\n', 'sub/Dockerfile');
  t.equal(plain.mayReach('node_modules'), false, 'nothing can be excepted: the directory is skipped whole');
  t.equal(plain.ignores('sub/Dockerfile'), false);
});

t.test('symlinks are sent as links and never followed, inside or out of the tree', async (t) => {
  const root = await tree(
    { 'Dockerfile': 'FROM scratch\n', 'real.txt': 'real' },
    { 'to-passwd': '/etc/passwd', 'to-real': 'real.txt', 'up': '../../../../etc', 'dir-link': '/etc' },
  );
  const ctx = await prepareBuildContext(root, { contextPath: '', dockerfilePath: 'Dockerfile', maxBytes: MIB });
  const tar = await untar(ctx.pack());
  t.match(tar.get('to-passwd'), { type: 'symlink', linkname: '/etc/passwd', content: '' });
  t.match(tar.get('to-real'), { type: 'symlink', linkname: 'real.txt' });
  t.match(tar.get('dir-link'), { type: 'symlink', linkname: '/etc' });
  t.notOk([...tar.keys()].some((k) => k.startsWith('dir-link/')), 'a linked directory is not walked');
  t.equal(ctx.totalBytes, 'FROM scratch\n'.length + 'real'.length, 'only regular files count');
});

t.test('context_path: relative, no .., no symlink leading out', async (t) => {
  const root = await tree({ 'sub/Dockerfile': 'FROM scratch\n', 'sub/a.txt': 'a', 'Dockerfile': 'x' }, { 'escape': '/etc', 'inner': 'sub' });
  const sub = await prepareBuildContext(root, { contextPath: 'sub/', dockerfilePath: 'Dockerfile', maxBytes: MIB });
  t.same(sub.entries.sort(), ['Dockerfile', 'a.txt']);
  const viaLink = await prepareBuildContext(root, { contextPath: 'inner', dockerfilePath: 'Dockerfile', maxBytes: MIB });
  t.same(viaLink.entries.sort(), ['Dockerfile', 'a.txt'], 'a link that stays inside the clone is fine');
  for (const contextPath of ['../x', 'sub/../../x', '/etc', 'a\\b', 'nul\0']) {
    await t.rejects(prepareBuildContext(root, { contextPath, dockerfilePath: 'Dockerfile', maxBytes: MIB }), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'context_path' }, JSON.stringify(contextPath));
  }
  await t.rejects(prepareBuildContext(root, { contextPath: 'escape', dockerfilePath: 'Dockerfile', maxBytes: MIB }), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'context_path', message: /outside/ });
  await t.rejects(prepareBuildContext(root, { contextPath: 'missing', dockerfilePath: 'Dockerfile', maxBytes: MIB }), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'context_path', message: /does not exist/ });
  await t.rejects(prepareBuildContext(root, { contextPath: 'sub/a.txt', dockerfilePath: 'Dockerfile', maxBytes: MIB }), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'context_path', message: /not a directory/ });
});

t.test('dockerfile_path: a missing, outside or non-file Dockerfile is 400 naming it', async (t) => {
  const root = await tree({ 'ctx/readme.txt': 'no Dockerfile here', 'ctx/dir/x': 'x', 'Dockerfile': 'outside the context' }, { 'ctx/Dockerfile.link': '../Dockerfile' });
  const ask = (dockerfilePath: string) => prepareBuildContext(root, { contextPath: 'ctx', dockerfilePath, maxBytes: MIB });
  await t.rejects(ask('Dockerfile'), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'dockerfile_path', message: /no Dockerfile at Dockerfile in context ctx/ });
  await t.rejects(ask('../Dockerfile'), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'dockerfile_path', message: /\.\./ });
  await t.rejects(ask('Dockerfile.link'), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'dockerfile_path', message: /outside/ });
  await t.rejects(ask('dir'), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'dockerfile_path', message: /not a file/ });
  await t.rejects(ask('.'), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'dockerfile_path' });
});

t.test('the context size is capped before anything is sent', async (t) => {
  const root = await tree({ 'Dockerfile': 'FROM scratch\n', 'big.bin': 'x'.repeat(4096), 'ignored.bin': 'y'.repeat(8192), '.dockerignore': 'ignored.bin\n' });
  await t.rejects(prepareBuildContext(root, { contextPath: '.', dockerfilePath: 'Dockerfile', maxBytes: 4000 }), { code: 'SLIPWAY_ERR_REPO_TOO_LARGE', statusCode: 413, field: 'context_path' });
  const ok = await prepareBuildContext(root, { contextPath: '.', dockerfilePath: 'Dockerfile', maxBytes: 5000 });
  t.notOk(ok.entries.includes('ignored.bin'), 'ignored files do not count');
});

t.test('cleanRelativePath normalises and refuses escapes', async (t) => {
  t.equal(cleanRelativePath('', 'f'), '.');
  t.equal(cleanRelativePath('./a//b/', 'f'), 'a/b');
  t.equal(cleanRelativePath('a/./b', 'f'), 'a/b');
  t.throws(() => cleanRelativePath('a/../b', 'f'), { code: 'SLIPWAY_ERR_INVALID_INPUT', field: 'f' }, 'no .. even when it stays inside');
});
