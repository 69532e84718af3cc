/**
 * The build context: a tar of `context_path` inside a clone, filtered by the
 * context's `.dockerignore` as the docker CLI does it, sent to the Engine API.
 *
 * - Paths come from a caller: `context_path` and `dockerfile_path` are relative, have
 *   no `..`, and must resolve (through any symlinks) inside the clone or the context.
 * - The walk never follows a symlink: a link is put in the tar as a link (the daemon
 *   resolves it inside the image it builds, never on the host), and files are opened
 *   with O_NOFOLLOW, so a link swapped in after the walk is not read either.
 * - `.dockerignore` uses @balena/dockerignore, a port of moby's own matcher (patterns,
 *   `**`, `!` exceptions, parent-directory matching), case-sensitive as on Linux. As
 *   the docker CLI does, the Dockerfile and `.dockerignore` are always sent, and an
 *   ignored directory is skipped whole unless an exception pattern could reach into it.
 * - The sum of file sizes is capped before anything is sent (413 naming `context_path`).
 */
import { constants } from 'node:fs';
import { lstat, open, readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import type { ReadStream } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
// A CommonJS module typed with `export default`: the default import is the factory at
// run time and the module to the compiler; the factory's own `.default` satisfies both.
import dockerignoreModule from '@balena/dockerignore';
import tarStream from 'tar-stream';
import { invalidInput, SlipwayError } from './errors.js';

export interface BuildContextRequest {
  /** Relative to the clone root; '' or '.' for the root. */
  contextPath: string;
  /** Relative to the context. */
  dockerfilePath: string;
  maxBytes: number;
}

export interface BuildContext {
  /** The Dockerfile's path inside the tar, for the Engine API's `dockerfile` parameter. */
  dockerfile: string;
  /** Context-relative posix paths in the tar, in tar order. */
  entries: string[];
  totalBytes: number;
  /** A fresh tar stream of the context; each call reads the files again. */
  pack(): Readable;
  /** What a COPY sees: the context minus what .dockerignore names, Dockerfile and .dockerignore included. */
  files: ContextEntry[];
  /** The Dockerfile's text (resolved inside the context when the context was checked). */
  readDockerfile(): Promise<string>;
}

export interface ContextEntry {
  path: string;
  abs: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  size: number;
  mtime: Date;
  linkname?: string;
}

/** A caller's relative path, normalised to posix form; `..`, absolute paths and NUL are refused. */
export function cleanRelativePath(raw: string, field: string): string {
  if (raw.includes('\0')) throw invalidInput(field, `${field} contains a NUL byte`);
  if (raw.startsWith('/') || raw.includes('\\')) throw invalidInput(field, `${field} must be a relative path with / separators`);
  const normal = posix.normalize(raw === '' ? '.' : raw).replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../') || raw.split('/').includes('..')) throw invalidInput(field, `${field} must not contain ..`);
  return normal === '' ? '.' : normal;
}

/** Walks the context and checks everything a build needs before a byte is sent. */
export async function prepareBuildContext(cloneDir: string, req: BuildContextRequest): Promise<BuildContext> {
  const contextRel = cleanRelativePath(req.contextPath, 'context_path');
  const dockerfile = cleanRelativePath(req.dockerfilePath, 'dockerfile_path');
  if (dockerfile === '.') throw invalidInput('dockerfile_path', 'dockerfile_path must name a file');
  const root = await realpath(cloneDir);
  const context = await resolveInside(root, contextRel, 'context_path', 'the repository');
  if (!(await stat(context)).isDirectory()) throw invalidInput('context_path', `context_path ${contextRel} is not a directory`);
  const dockerfileAbs = await resolveInside(context, dockerfile, 'dockerfile_path', 'the build context').catch((err: unknown) => {
    if (err instanceof SlipwayError && /does not exist/.test(err.message)) {
      throw invalidInput('dockerfile_path', `no Dockerfile at ${dockerfile} in context ${contextRel}`);
    }
    throw err;
  });
  if (!(await stat(dockerfileAbs)).isFile()) throw invalidInput('dockerfile_path', `dockerfile_path ${dockerfile} is not a file`);

  const matcher = await loadDockerignore(context, dockerfile);
  const entries: ContextEntry[] = [];
  const hidden = new Set<string>();
  let totalBytes = 0;
  const walk = async (dirAbs: string, dirRel: string): Promise<void> => {
    const names = (await readdir(dirAbs)).sort();
    for (const name of names) {
      const rel = dirRel ? `${dirRel}/${name}` : name;
      const abs = join(dirAbs, name);
      const info = await lstat(abs);
      const ignored = matcher.ignores(rel);
      if (!ignored && matcher.ignoredByPatterns(rel)) hidden.add(rel);
      if (info.isDirectory()) {
        if (ignored && !matcher.mayReach(rel)) continue;
        if (!ignored) entries.push({ path: rel, abs, type: 'directory', mode: info.mode & 0o7777, size: 0, mtime: info.mtime });
        await walk(abs, rel);
      } else if (!ignored && info.isSymbolicLink()) {
        entries.push({ path: rel, abs, type: 'symlink', mode: 0o777, size: 0, mtime: info.mtime, linkname: await readlink(abs) });
      } else if (!ignored && info.isFile()) {
        totalBytes += info.size;
        if (totalBytes > req.maxBytes) {
          const mib = (req.maxBytes / 1024 / 1024).toFixed(1);
          throw new SlipwayError('SLIPWAY_ERR_REPO_TOO_LARGE', `the build context passed the server's limit of ${mib} MiB`, { field: 'context_path' });
        }
        entries.push({ path: rel, abs, type: 'file', mode: info.mode & 0o7777, size: info.size, mtime: info.mtime });
      }
      // Sockets, FIFOs and devices cannot come out of a git checkout; skip them if they do.
    }
  };
  await walk(context, '');
  // The Dockerfile may sit behind an in-context symlink; the daemon follows it inside the tar.
  return {
    dockerfile,
    entries: entries.map((e) => e.path),
    totalBytes,
    pack: () => packEntries(entries.map((e) => ({ entry: e, name: e.path }))),
    files: entries.filter((e) => !hidden.has(e.path)),
    readDockerfile: () => readFile(dockerfileAbs, 'utf8'),
  };
}

/** Resolves `rel` under `base` through symlinks and refuses anything that lands outside. */
async function resolveInside(base: string, rel: string, field: string, what: string): Promise<string> {
  let resolved: string;
  try {
    resolved = await realpath(join(base, rel));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw invalidInput(field, `${field} ${rel} does not exist in ${what}`);
    }
    throw err;
  }
  const inside = relative(base, resolved);
  if (inside === '..' || inside.startsWith(`..${sep}`) || inside.startsWith(sep)) {
    throw invalidInput(field, `${field} ${rel} leads outside ${what} through a symlink`);
  }
  return resolved;
}

interface Matcher {
  ignores(path: string): boolean;
  /** The patterns' own verdict, without the files the CLI always sends. */
  ignoredByPatterns(path: string): boolean;
  /** Whether an exception pattern could match something below an ignored directory. */
  mayReach(dir: string): boolean;
}

/** The context's .dockerignore, with the CLI's rule that the Dockerfile and .dockerignore are always sent. */
export async function loadDockerignore(context: string, dockerfile: string): Promise<Matcher> {
  let text = '';
  try {
    const info = await lstat(join(context, '.dockerignore'));
    if (info.isFile()) text = await readFile(join(context, '.dockerignore'), 'utf8');
  } catch {
    // no .dockerignore: nothing is ignored
  }
  return dockerignoreMatcher(text, dockerfile);
}

export function dockerignoreMatcher(text: string, dockerfile: string): Matcher {
  const patterns = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const exceptions = patterns.filter((p) => p.startsWith('!')).map((p) => posix.normalize(p.slice(1).trim()).replace(/^\//, ''));
  const ig = dockerignoreModule.default({ ignorecase: false }).add(patterns);
  const always = new Set(['.dockerignore', dockerfile]);
  return {
    ignores: (path) => !always.has(path) && ig.ignores(path),
    ignoredByPatterns: (path) => ig.ignores(path),
    // moby's walk (pkg/archive): descend into an excluded directory only when an
    // exception pattern starts with that directory's path.
    mayReach: (dir) => [...exceptions, ...always].some((p) => `${p}/`.startsWith(`${dir}/`)),
  };
}

/** Context entries as a tar, each under the name given (a COPY's destination, relative to /). */
export function packEntries(entries: { entry: ContextEntry; name: string; uid?: number; gid?: number; mode?: number }[]): Readable {
  const pack = tarStream.pack();
  let closed = false;
  let reading: ReadStream | undefined;
  // The reader may go away mid-file (build timeout, cancel): stop, and close the file.
  pack.once('close', () => {
    closed = true;
    reading?.destroy();
  });
  (async () => {
    for (const { entry: e, name, uid, gid, mode } of entries) {
      if (closed) return;
      const header = { name, mode: mode ?? e.mode, mtime: e.mtime, uid: uid ?? 0, gid: gid ?? 0 };
      if (e.type === 'directory') pack.entry({ ...header, type: 'directory' });
      else if (e.type === 'symlink') pack.entry({ ...header, type: 'symlink', linkname: e.linkname! });
      else {
        const sink = pack.entry({ ...header, type: 'file', size: e.size });
        const source = (reading = (await open(e.abs, constants.O_RDONLY | constants.O_NOFOLLOW)).createReadStream());
        await new Promise<void>((resolve, reject) => {
          source.once('error', reject);
          source.once('close', () => (closed ? resolve() : undefined));
          sink.once('error', reject);
          sink.once('finish', () => resolve());
          source.pipe(sink as unknown as NodeJS.WritableStream);
        });
      }
    }
    if (!closed) pack.finalize();
  })().catch((err: Error) => pack.destroy(err));
  return Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
}
