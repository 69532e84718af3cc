/**
 * Payload files: checked, normalised and packed as a tar for the Engine API's
 * putArchive. Nothing touches the host filesystem, so a sandbox cannot plant
 * symlinks for the gateway to follow (the judge0 CVE-2024-28185 lesson).
 */
import { posix } from 'node:path';
import { pack } from 'tar-stream';
import { invalidInput } from './errors.js';
import type { PayloadFile, PayloadRunInput } from '../schemas/payload-run.js';

export interface PreparedFile {
  path: string;
  content: Buffer;
  mode: number;
}

export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Refuses absolute paths, `..`, NUL bytes, empty names, duplicates and a path used as
 * both a file and a directory; normalises the rest. `fieldOf(i)` names file i's path
 * field in errors (the single `payload` is `payload_path`).
 */
export function prepareFiles(files: PayloadFile[], fieldOf: (i: number) => string = (i) => `files[${i}].path`): PreparedFile[] {
  const seen = new Set<string>();
  const dirs = new Set<string>();
  let total = 0;
  return files.map((file, i) => {
    const field = fieldOf(i);
    const raw = file.path;
    if (raw.includes('\0')) throw invalidInput(field, `${field} contains a NUL byte`);
    if (raw.startsWith('/') || raw.includes('\\')) throw invalidInput(field, `${field} must be a relative path with / separators`);
    if (raw.split('/').includes('..')) throw invalidInput(field, `${field} must not contain ..`);
    const path = posix.normalize(raw).replace(/\/+$/, '');
    if (path === '' || path === '.' || path.startsWith('../')) throw invalidInput(field, `${field} must name a file`);
    if (seen.has(path)) throw invalidInput(field, `${field} duplicates another file's path (${path})`);
    const parents = path.split('/').slice(0, -1).map((_, n, parts) => parts.slice(0, n + 1).join('/'));
    if (dirs.has(path) || parents.some((p) => seen.has(p))) throw invalidInput(field, `${field} uses ${path} as both a file and a directory`);
    seen.add(path);
    for (const p of parents) dirs.add(p);
    const contentField = field.replace(/path$/, 'content').replace(/^payload_content$/, 'payload');
    if (file.encoding === 'base64' && !(BASE64.test(file.content.replace(/\s+/g, '')) && file.content.replace(/\s+/g, '').length % 4 === 0)) {
      throw invalidInput(contentField, `${contentField} is not valid base64`);
    }
    const content = Buffer.from(file.content, file.encoding === 'base64' ? 'base64' : 'utf8');
    total += content.length;
    if (total > MAX_PAYLOAD_BYTES) throw invalidInput(contentField, `payload files exceed ${MAX_PAYLOAD_BYTES} bytes in all`);
    return { path, content, mode: payloadMode(file.mode) };
  });
}

/**
 * The mode a payload file gets: root-owned and readable by all, writable by root only,
 * whatever the caller asked. Only the executable bit is honoured. A file the run's user
 * could write to would let it grow the payload volume, which lives on host disk with no
 * size bound (unlike /tmp).
 */
export function payloadMode(requested: number | undefined): number {
  return requested !== undefined && (requested & 0o111) !== 0 ? 0o755 : 0o644;
}

/**
 * A tar of the files and their parent directories, owned by root, readable by all and
 * writable by root only (modes pass payloadMode again, whoever built the list): the
 * run's non-root user can read its code but not grow the volume (disk fill goes to the
 * size-limited /tmp instead).
 */
export async function packFiles(files: PreparedFile[]): Promise<Buffer> {
  const tar = pack();
  const dirs = new Set<string>();
  const chunks: Buffer[] = [];
  tar.on('data', (chunk) => chunks.push(chunk as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    tar.on('end', resolve);
    tar.on('error', reject);
  });
  const mtime = new Date();
  for (const file of files) {
    const parts = file.path.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (dirs.has(dir)) continue;
      dirs.add(dir);
      tar.entry({ name: dir, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime });
    }
    tar.entry({ name: file.path, mode: payloadMode(file.mode), uid: 0, gid: 0, mtime }, file.content);
  }
  tar.finalize();
  await done;
  return Buffer.concat(chunks);
}

/**
 * `files`, plus the original API's single `payload` at `payload_path` (or the preset's
 * file name), with the field that names each path in errors: the payload comes last,
 * named `payload_path`.
 */
export function payloadFiles(input: PayloadRunInput, presetFile: string | undefined): { files: PayloadFile[]; fieldOf: (i: number) => string } {
  const files: PayloadFile[] = [...(input.files ?? [])];
  if (input.payload !== undefined) {
    const path = input.payload_path ?? presetFile;
    if (!path) throw invalidInput('payload_path', 'payload_path is required when no language is given');
    files.push({ path, content: input.payload });
  } else if (input.payload_path !== undefined) {
    throw invalidInput('payload', 'payload_path was given without payload');
  }
  if (files.length === 0) throw invalidInput('files', 'files or payload is required');
  const payloadIndex = input.payload !== undefined ? files.length - 1 : -1;
  return { files, fieldOf: (i) => (i === payloadIndex ? 'payload_path' : `files[${i}].path`) };
}
