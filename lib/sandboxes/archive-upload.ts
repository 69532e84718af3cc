/**
 * A tar a caller uploads into a sandbox, checked and rewritten by the gateway before any
 * of it reaches the sandbox. Only files, directories and symbolic links pass, each with a
 * relative path that stays under the target directory; a link must point inside
 * /workspace (relative, `..` only leading), and nothing may be written through a link the same archive made. Refused:
 * absolute paths, `..`, hard links, devices and FIFOs, NUL or newline in names, more than
 * MAX_ARCHIVE_ENTRIES entries. Passed entries are packed again with fresh headers (no
 * owners, no setuid/setgid/sticky bits, directories writable by their owner), so what the
 * sandbox's `tar -x` sees is only what was checked here.
 *
 * The paths answered (relative to /workspace, with every link target) go to the agent,
 * which refuses the upload when any of their components already is a link in the
 * sandbox (agent.ts UNPACK_SCRIPT): links planted by an exec are not written through.
 */
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { extract, pack, type Header } from 'tar-stream';
import { invalidInput, SlipwayError } from '../errors.js';

/** Entries one upload may hold: each is checked in the sandbox by a shell loop. */
export const MAX_ARCHIVE_ENTRIES = 10_000;

export interface CheckedArchive {
  /** The archive as packed again: only the checked entries. */
  tar: Buffer;
  /** Paths relative to /workspace whose components must not be links in the sandbox. */
  paths: string[];
  entries: number;
  /** Bytes of file content. */
  bytes: number;
}

/** Refused, naming the entry: the caller sees which one and why. */
function refuse(index: number, name: string, why: string): never {
  throw invalidInput('body', `archive entry ${index} (${JSON.stringify(name.slice(0, 200))}) ${why}`);
}

/** `path` itself (when `self`) or the nearest directory above it that is in `links`. */
function linkAt(links: ReadonlySet<string>, path: string, self: boolean): string | undefined {
  for (let at = self ? path : posix.dirname(path); at !== '.' && at !== '/'; at = posix.dirname(at)) if (links.has(at)) return at;
  return undefined;
}

/** `name` as a clean relative path (no `./`, no trailing `/`), or '' for the archive's root itself. */
function cleanName(index: number, name: string): string {
  if (/[\0\n]/.test(name)) refuse(index, name, 'has a NUL or newline in its name');
  if (name.startsWith('/')) refuse(index, name, 'has an absolute path; paths must be relative');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) refuse(index, name, 'climbs out with ..');
  return parts.join('/');
}

/**
 * Checks and repacks `body` for extraction under `into` (relative to /workspace, '' for
 * /workspace itself); throws a 400 naming the first entry refused.
 */
export async function checkArchive(body: Buffer, into: string): Promise<CheckedArchive> {
  const out = pack();
  const chunks: Buffer[] = [];
  out.on('data', (chunk) => chunks.push(chunk as Buffer));
  const packed = new Promise<void>((resolve, reject) => out.on('end', resolve).on('error', reject));
  const links = new Set<string>();
  const paths: string[] = [];
  let entries = 0;
  let bytes = 0;
  const reader = extract();
  reader.on('entry', (header: Header, stream, next) => {
    const index = entries++;
    // Destroying the reader destroys the entry under way too: its error is the reader's, reported once.
    stream.on('error', () => undefined);
    const fail = (err: unknown) => reader.destroy(err as Error);
    try {
      if (entries > MAX_ARCHIVE_ENTRIES) refuse(index, header.name, `is one too many: at most ${MAX_ARCHIVE_ENTRIES} entries`);
      const name = cleanName(index, header.name);
      const inWorkspace = posix.join(into || '.', name || '.');
      const through = linkAt(links, inWorkspace, false);
      if (through) refuse(index, header.name, `goes through the link ${through} the archive made`);
      const mode = (header.mode ?? 0o644) & 0o777;
      const entry: Partial<Header> & { name: string } = { name: name || '.', mtime: header.mtime ?? new Date(0), uid: 0, gid: 0, uname: '', gname: '' };
      if (header.type === 'file' || header.type === 'contiguous-file') {
        if (!name) refuse(index, header.name, 'is a file without a name');
        Object.assign(entry, { type: 'file', mode, size: header.size ?? 0 });
        bytes += header.size ?? 0;
      } else if (header.type === 'directory') {
        Object.assign(entry, { type: 'directory', mode: mode | 0o700 });
      } else if (header.type === 'symlink') {
        const target = header.linkname ?? '';
        if (!name || !target || /[\0\n]/.test(target)) refuse(index, header.name, 'is a link without a usable name or target');
        if (target.startsWith('/')) refuse(index, header.name, `is a link to the absolute path ${target}; links must be relative and stay in /workspace`);
        // `..` only at the start: past a name, `..` would climb from wherever that name, if a link, leads.
        const steps = target.split('/').filter((p: string) => p !== '' && p !== '.');
        const firstName = steps.findIndex((p: string) => p !== '..');
        if (firstName !== -1 && firstName < steps.lastIndexOf('..')) refuse(index, header.name, `is a link to ${target}, with .. after a name; only leading .. is accepted`);
        const resolved = posix.join(posix.dirname(inWorkspace), target);
        if (resolved === '..' || resolved.startsWith('../')) refuse(index, header.name, `is a link to ${target}, which leads outside /workspace`);
        const via = linkAt(links, resolved, true);
        if (via) refuse(index, header.name, `is a link through the link ${via} the archive made`);
        Object.assign(entry, { type: 'symlink', mode: 0o777, linkname: target });
        links.add(inWorkspace);
        paths.push(resolved);
      } else if (header.type === 'link') {
        refuse(index, header.name, 'is a hard link; archive the file itself (GNU tar: --hard-dereference)');
      } else {
        refuse(index, header.name, `is a ${header.type ?? 'special file'}; only files, directories and symbolic links are accepted`);
      }
      if (name) paths.push(inWorkspace);
      // The archive's root (`./`) is the target directory, which exists already.
      if (!name) return void stream.resume().on('end', next);
      stream.pipe(out.entry(entry, (err) => (err ? fail(err) : next())));
    } catch (err) {
      stream.resume();
      fail(err);
    }
  });
  const read = new Promise<void>((resolve, reject) => reader.on('finish', resolve).on('error', reject));
  Readable.from([body]).pipe(reader);
  try {
    await read;
  } catch (err) {
    out.destroy();
    if (err instanceof SlipwayError) throw err;
    throw invalidInput('body', `the body is not a readable tar archive: ${(err as Error).message}`);
  }
  if (entries === 0) throw invalidInput('body', 'the archive holds no entries (send an uncompressed tar, Content-Type: application/x-tar)');
  out.finalize();
  await packed;
  return { tar: Buffer.concat(chunks), paths, entries, bytes };
}
