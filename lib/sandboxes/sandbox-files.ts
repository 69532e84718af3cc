/**
 * Files in a sandbox's workspace, through the agent inside it (lib/sandboxes/agent.ts):
 * write (a tar of the payload-shaped files, extracted by `tar -x`), read (bounded, base64
 * when not UTF-8) and list. Paths follow the payload rules (lib/payload-files.ts) and
 * stay in /workspace: `..` and absolute paths elsewhere are refused here, and links are
 * resolved inside the sandbox (`realpath`) and refused when they lead out, or, for
 * writes, refused when any component already is a link.
 */
import { posix } from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { invalidInput, SlipwayError } from '../errors.js';
import { packFiles, prepareFiles } from '../payload-files.js';
import type { ContainerRuntime, ExecOutcome, FileEntry } from '../runtime/container-runtime.js';
import type { PayloadFile } from '../../schemas/payload-run.js';
import type { FileEntryInfo, ListFilesResult, ReadFileResult, WriteFilesResult } from '../../schemas/sandboxes.js';
import type { UploadArchiveResult } from '../../schemas/sandbox-archives.js';
import { AGENT_EXIT, agentScript, LIST_SCRIPT, PACK_SCRIPT, READ_SCRIPT, UNPACK_SCRIPT, WORKSPACE, WRITE_SCRIPT } from './agent.js';
import { checkArchive } from './archive-upload.js';

export interface FilesTarget {
  sandboxId: string;
  containerId: string;
  user: string;
}

/** File operations are quick; a stuck one must not hold a request for long. */
const FILE_OP_TIMEOUT_MS = 60_000;
/** An archive of up to SLIPWAY_SANDBOX_ARCHIVE_MAX_BYTES may meet a slow client; still bounded. */
const ARCHIVE_TIMEOUT_MS = 10 * 60_000;

export interface ArchiveDownload {
  /** The directory packed (resolved in the sandbox). */
  path: string;
  /** The tar, as the sandbox writes it; destroyed with an error if it fails or outgrows the bound. */
  tar: Readable;
}

/**
 * `path` (relative to /workspace, or absolute under it) as an absolute, normalised path
 * in the workspace; `..`, NUL bytes and absolute paths elsewhere are refused, naming `field`.
 */
export function workspacePath(path: string, field: string): string {
  if (path.includes('\0')) throw invalidInput(field, `${field} contains a NUL byte`);
  if (path.split('/').includes('..')) throw invalidInput(field, `${field} must not contain ..`);
  const absolute = posix.normalize(path.startsWith('/') ? path : `${WORKSPACE}/${path}`).replace(/(.)\/+$/, '$1');
  if (absolute !== WORKSPACE && !absolute.startsWith(`${WORKSPACE}/`)) throw invalidInput(field, `${field} must be inside ${WORKSPACE}`);
  return absolute;
}

/**
 * Writes checked entries into /workspace of a live container through its agent, as the
 * container's user (a sandbox's, or a payload run's before its program starts); `where`
 * names the workspace in the error of a full one.
 */
export async function writeWorkspaceFiles(runtime: ContainerRuntime, target: Pick<FilesTarget, 'containerId' | 'user'>, entries: FileEntry[], where: string): Promise<void> {
  const out = await runtime.exec(target.containerId, { cmd: agentScript(WRITE_SCRIPT, entries.map((e) => e.path)), user: target.user, stdin: await packFiles(entries), timeoutMs: FILE_OP_TIMEOUT_MS });
  if (out.timedOut) throw new SlipwayError('SLIPWAY_ERR_ENGINE', 'writing files did not finish in time');
  if (out.exitCode === AGENT_EXIT.symlink) {
    const path = out.stderr.trim();
    const index = entries.findIndex((e) => e.path === path);
    const field = `files[${Math.max(index, 0)}].path`;
    throw invalidInput(field, `${field} (${path}) goes through a symbolic link in the workspace; links are not followed when writing`);
  }
  if (out.exitCode !== 0) throw workspaceWriteError(out.stderr, where);
}

/** Why files could not be unpacked into a workspace, from tar's complaint: full (413), or the engine's fault. */
export function workspaceWriteError(stderr: string, where: string): SlipwayError {
  if (/No space left|short write|write error/i.test(stderr)) {
    return new SlipwayError('SLIPWAY_ERR_PAYLOAD_TOO_LARGE', `the ${where} is full: ${stderr.trim().slice(0, 200)}`, { field: 'files' });
  }
  return new SlipwayError('SLIPWAY_ERR_ENGINE', `writing files failed: ${stderr.trim().slice(0, 200)}`);
}

export class SandboxFiles {
  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly bounds: { readMaxBytes: number; listMaxEntries: number; archiveMaxBytes: number },
  ) {}

  async write(target: FilesTarget, files: PayloadFile[]): Promise<WriteFilesResult> {
    const entries = prepareFiles(files);
    await writeWorkspaceFiles(this.runtime, target, entries, 'sandbox\'s workspace');
    return { sandbox_id: target.sandboxId, written: entries.map((e) => ({ path: `${WORKSPACE}/${e.path}`, bytes: e.content.length })) };
  }

  /**
   * Unpacks a tar into a directory of the workspace: checked and repacked here first
   * (archive-upload.ts), then extracted by the agent as the sandbox user into `path`
   * (made when missing), refusing paths through links already in the workspace.
   */
  async upload(target: FilesTarget, rawPath: string | undefined, body: Buffer): Promise<UploadArchiveResult> {
    const path = workspacePath(rawPath ?? '.', 'path');
    const into = path === WORKSPACE ? '' : path.slice(WORKSPACE.length + 1);
    const archive = await checkArchive(body, into);
    const manifest = Buffer.from(`${[into || '.', ...archive.paths].join('\n')}\n\n`);
    const out = await this.agent(target, agentScript(UNPACK_SCRIPT, [path]), Buffer.concat([manifest, archive.tar]), ARCHIVE_TIMEOUT_MS);
    if (out.exitCode === AGENT_EXIT.symlink) {
      throw invalidInput('body', `the archive's path ${out.stderr.trim().slice(0, 300)} goes through a symbolic link in the workspace; links are not followed when writing`);
    }
    if (out.exitCode === AGENT_EXIT.wrongType) throw invalidInput('path', `path ${path} is not a directory in the sandbox, and cannot be made one`);
    this.refuseWrite(out);
    return { sandbox_id: target.sandboxId, path, entries: archive.entries, bytes: archive.bytes };
  }

  /**
   * A directory of the workspace as a tar, streamed: its size is checked first (a 413
   * before any byte is sent), and the stream is cut with an error if it outgrows the
   * bound all the same. Links are archived as links, never followed.
   */
  async download(target: FilesTarget, rawPath: string | undefined): Promise<ArchiveDownload> {
    const path = workspacePath(rawPath ?? '.', 'path');
    const maxBytes = this.bounds.archiveMaxBytes;
    const sized = await this.agent(target, agentScript(PACK_SCRIPT, [path, 'size', String(Math.floor(maxBytes / 1024))]));
    const [resolved = path, kib = '0'] = sized.stdout.split('\n');
    if (sized.exitCode === AGENT_EXIT.tooLarge) {
      throw new SlipwayError('SLIPWAY_ERR_PAYLOAD_TOO_LARGE', `${resolved} holds ${kib} KiB, more than the ${Math.floor(maxBytes / 1024)} KiB an archive may (SLIPWAY_SANDBOX_ARCHIVE_MAX_BYTES)`, { field: 'path' });
    }
    this.refuse(sized, path, 'a directory');
    let sent = 0;
    const bounded = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        sent += chunk.length;
        if (sent > maxBytes + 1024 * 1024) callback(new Error(`the archive outgrew ${maxBytes} bytes and was cut off`));
        else callback(null, chunk);
      },
    });
    const tar = new PassThrough();
    bounded.pipe(tar);
    bounded.on('error', (err) => tar.destroy(err));
    const stop = new AbortController();
    tar.on('close', () => stop.abort());
    this.runtime
      .exec(target.containerId, { cmd: agentScript(PACK_SCRIPT, [resolved, 'tar']), user: target.user, timeoutMs: ARCHIVE_TIMEOUT_MS, maxOutputBytes: 64 * 1024 }, { signal: stop.signal, stdout: bounded })
      .then(
        (out) => (out.exitCode === 0 ? bounded.end() : bounded.destroy(new Error(`packing ${resolved} failed: ${out.stderr.trim().slice(0, 200) || (out.timedOut ? 'timed out' : `exit ${out.exitCode}`)}`))),
        (err: unknown) => bounded.destroy(err as Error),
      );
    return { path: resolved, tar };
  }

  async read(target: FilesTarget, rawPath: string): Promise<ReadFileResult> {
    const path = workspacePath(rawPath, 'path');
    const out = await this.agent(target, agentScript(READ_SCRIPT, [path, String(this.bounds.readMaxBytes)]));
    this.refuse(out, path, 'a regular file');
    const newline = out.stdout.indexOf('\n');
    const size = Number(out.stdout.slice(0, newline));
    const bytes = Buffer.from(out.stdout.slice(newline + 1).trim(), 'base64');
    const text = utf8(bytes);
    return { path, size, encoding: text === null ? 'base64' : 'utf8', content: text ?? bytes.toString('base64'), truncated: size > bytes.length };
  }

  async list(target: FilesTarget, rawPath: string | undefined): Promise<ListFilesResult> {
    const path = workspacePath(rawPath ?? '.', 'path');
    const out = await this.agent(target, agentScript(LIST_SCRIPT, [path, String(this.bounds.listMaxEntries)]));
    this.refuse(out, path, 'a directory');
    const lines = out.stdout.split('\n').filter(Boolean);
    const entries = lines.slice(1).map(parseEntry).filter((e): e is FileEntryInfo => e !== null);
    return { path: lines[0] ?? path, entries, truncated: lines.includes('//truncated') };
  }

  /** A failed extraction in the caller's terms: a full workspace is a 413. */
  private refuseWrite(out: ExecOutcome, field = 'body'): void {
    if (out.exitCode === 0) return;
    if (/No space left|short write|write error/i.test(out.stderr)) {
      throw new SlipwayError('SLIPWAY_ERR_PAYLOAD_TOO_LARGE', `the sandbox's workspace is full: ${out.stderr.trim().slice(0, 200)}`, { field });
    }
    throw new SlipwayError('SLIPWAY_ERR_ENGINE', `writing files failed: ${out.stderr.trim().slice(0, 200)}`);
  }

  /** The agent's refusals in the caller's terms. */
  private refuse(out: ExecOutcome, path: string, what: string): void {
    if (out.exitCode === 0) return;
    if (out.exitCode === AGENT_EXIT.missing) throw new SlipwayError('SLIPWAY_ERR_FILE_NOT_FOUND', `${path} does not exist in the sandbox`, { field: 'path' });
    if (out.exitCode === AGENT_EXIT.outside) throw invalidInput('path', `path ${path} leads outside ${WORKSPACE} (through a symbolic link)`);
    if (out.exitCode === AGENT_EXIT.wrongType) throw invalidInput('path', `path ${path} is not ${what}`);
    throw new SlipwayError('SLIPWAY_ERR_ENGINE', `the sandbox's agent failed: ${out.stderr.trim().slice(0, 200)}`);
  }

  private async agent(target: FilesTarget, cmd: string[], stdin?: Buffer, timeoutMs = FILE_OP_TIMEOUT_MS): Promise<ExecOutcome> {
    const out = await this.runtime.exec(target.containerId, { cmd, user: target.user, stdin, timeoutMs, maxOutputBytes: Math.ceil((this.bounds.readMaxBytes * 4) / 3) + 1024 * 1024 });
    if (out.timedOut) throw new SlipwayError('SLIPWAY_ERR_ENGINE', 'the file operation in the sandbox did not finish in time');
    return out;
  }
}

const TYPES: Record<string, FileEntryInfo['type']> = { 'regular file': 'file', 'regular empty file': 'file', directory: 'directory', 'symbolic link': 'symlink' };

function parseEntry(line: string): FileEntryInfo | null {
  const m = /^([^|]+)\|(\d+)\|(\d+)\|(.*)$/.exec(line);
  if (!m) return null;
  return { type: TYPES[m[1]!] ?? 'other', size: Number(m[2]), modified_at: new Date(Number(m[3]) * 1000).toISOString(), name: m[4]! };
}

/** The bytes as text when they are valid UTF-8, else null (binary: the caller sends base64). */
export function utf8(bytes: Buffer): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}
