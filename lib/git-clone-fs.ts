/**
 * node:fs for isomorphic-git (its `fs` plugin: an object with `promises`), bounded:
 *
 * - bytes: every write is counted before it is made; one past `maxBytes` fails;
 * - files: every file, directory and link created under `treeDir` is counted before it
 *   is made; one past `maxFiles` fails (the git directory beside it is not counted);
 * - handles: at most `maxOpen` calls are under way at once, the rest wait their turn.
 *   Every call isomorphic-git makes opens at most one descriptor and closes it before it
 *   returns, so this caps the descriptors a clone holds. isomorphic-git starts one
 *   write per file at once; a hundred thousand files ran the process out of descriptors.
 *
 * After the first refusal every call fails with the same error, and `failure` keeps it:
 * isomorphic-git reads some files through a catch-all (a failed read is "no such file"),
 * so the clone asks `failure` rather than trusting the error it sees.
 */
import * as fsp from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { SlipwayError } from './errors.js';
import { REPO_URL_FIELD } from './git-url-policy.js';

export interface CloneFsBounds {
  /** Bytes that may be written (pack, index, work tree): SLIPWAY_GIT_CLONE_DISK_MAX_BYTES. */
  maxBytes: number;
  /** Files, directories and links that may be created under `treeDir`: SLIPWAY_GIT_MAX_FILES. */
  maxFiles: number;
  /** Calls (so descriptors) under way at once: SLIPWAY_GIT_MAX_OPEN_FILES. */
  maxOpen: number;
  /** The working tree, whose entries `maxFiles` counts. */
  treeDir: string;
}

type Promises = typeof fsp;
/** The calls isomorphic-git's FileSystem binds (its `commands`, plus `rm`). */
const CALLS = ['readFile', 'writeFile', 'mkdir', 'rmdir', 'unlink', 'stat', 'lstat', 'readdir', 'readlink', 'symlink', 'rm'] as const;
type Call = (typeof CALLS)[number];

export class CloneFs {
  bytesWritten = 0;
  filesCreated = 0;
  /** Most calls that were ever under way at once (for tests and the log). */
  peakOpen = 0;
  failure: SlipwayError | undefined;
  /** What isomorphic-git is given. */
  readonly promises: Pick<Promises, Call>;
  private open = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly bounds: CloneFsBounds,
    private readonly real: Pick<Promises, Call> = fsp,
  ) {
    const wrapped = {} as Record<Call, (...args: unknown[]) => Promise<unknown>>;
    for (const name of CALLS) {
      const call = this.real[name] as (...args: unknown[]) => Promise<unknown>;
      wrapped[name] = (...args: unknown[]) => this.run(() => call.apply(this.real, args), name, args);
    }
    this.promises = wrapped as unknown as Pick<Promises, Call>;
  }

  private async run<R>(call: () => Promise<R>, name: Call, args: unknown[]): Promise<R> {
    if (this.failure) throw this.failure;
    await this.acquire();
    try {
      if (this.failure) throw this.failure;
      const creates = this.count(name, args);
      try {
        return await call();
      } catch (err) {
        // A creation that failed (EEXIST from isomorphic-git's mkdir -p, say) made nothing.
        if (creates) this.filesCreated--;
        throw err;
      }
    } finally {
      this.release();
    }
  }

  /** Counts a write or a creation before it happens (true for a creation); throws past a bound. */
  private count(name: Call, args: unknown[]): boolean {
    if (name === 'writeFile') {
      const data = args[1];
      this.bytesWritten += typeof data === 'string' ? Buffer.byteLength(data) : ArrayBuffer.isView(data) ? data.byteLength : 0;
      if (this.bytesWritten > this.bounds.maxBytes) {
        this.refuse(`the checkout passed the server's limit of ${this.bounds.maxBytes} bytes on disk (SLIPWAY_GIT_CLONE_DISK_MAX_BYTES)`);
      }
    }
    if ((name === 'writeFile' || name === 'mkdir' || name === 'symlink') && this.inTree(String(name === 'symlink' ? args[1] : args[0]))) {
      if (this.filesCreated >= this.bounds.maxFiles) this.refuse(`more than ${this.bounds.maxFiles} files and directories (SLIPWAY_GIT_MAX_FILES)`);
      this.filesCreated++;
      return true;
    }
    return false;
  }

  private inTree(path: string): boolean {
    const rel = relative(this.bounds.treeDir, path);
    return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`);
  }

  private refuse(what: string): never {
    this.failure = new SlipwayError('SLIPWAY_ERR_REPO_TOO_LARGE', `repository too large: ${what}`, { field: REPO_URL_FIELD });
    throw this.failure;
  }

  private async acquire(): Promise<void> {
    // A released slot is handed to the next waiter directly, so no newcomer slips in between.
    if (this.open < this.bounds.maxOpen) this.open++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.peakOpen = Math.max(this.peakOpen, this.open);
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.open--;
  }
}
