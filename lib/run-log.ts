/**
 * Each run's full event log, one NDJSON file per run beside the database, capped in
 * size. Events get ids increasing by one within the run, so a reader can resume
 * exactly after the last id it saw. Readers tail the file rather than holding events
 * in memory, so a slow or stalled reader costs the gateway nothing but a file offset.
 *
 * Beside each log, a sparse index (`<run>.ndjson.idx`) holds the byte offset of every
 * INDEX_EVERY-th event, so reading a page, or resuming after an event id, seeks to
 * near the first wanted event and reads what the page holds, not the whole log.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { RunLogEvent } from '../schemas/runs.js';

export type LogEventType = RunLogEvent['type'];

/** The event as stored; `bytes` (raw output length) only serves resuming after a restart. */
export interface StoredLogEvent extends RunLogEvent {
  bytes?: number;
}

/** Reads into `buffer` from `position` of an open file; returns the bytes read (injectable, to count them). */
export type ReadAt = (fd: number, buffer: Buffer, position: number) => number;
const readAtDefault: ReadAt = (fd, buffer, position) => readSync(fd, buffer, 0, buffer.length, position);

interface OpenLog {
  fd: number;
  indexFd: number;
  nextId: number;
  size: number;
  truncated: boolean;
  emitted: { stdout: number; stderr: number };
  waiters: Set<() => void>;
}

/** Events that are always written, past the cap too: a reader must always see how a run ended. */
const ALWAYS_KEPT: ReadonlySet<LogEventType> = new Set(['status', 'end', 'truncated']);
const READ_CHUNK_BYTES = 64 * 1024;
/** A page reads in steps this size: a small page costs a small read. */
const PAGE_CHUNK_BYTES = 16 * 1024;
/** One index entry per this many events: an index 1/1000th of its log, a seek within 64 events. */
export const INDEX_EVERY = 64;
/** An index entry: the event id and its byte offset, two little-endian doubles. */
const INDEX_ENTRY_BYTES = 16;

export class RunLogs {
  private readonly open = new Map<string, OpenLog>();

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly readAt: ReadAt = readAtDefault,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  path(runId: string): string {
    return join(this.dir, `${runId}.ndjson`);
  }

  indexPath(runId: string): string {
    return `${this.path(runId)}.idx`;
  }

  /** Opens a run's log for appending; an existing file (after a restart) is continued. */
  start(runId: string): void {
    if (this.open.has(runId)) return;
    const path = this.path(runId);
    const state: OpenLog = { fd: -1, indexFd: -1, nextId: 1, size: 0, truncated: false, emitted: { stdout: 0, stderr: 0 }, waiters: new Set() };
    const index: Buffer[] = [];
    if (existsSync(path)) {
      // Continued after a restart: the index is rebuilt from the log, the one truth.
      for (const { event, offset } of linesWithOffsets(readFileSync(path))) {
        state.nextId = event.id + 1;
        if (isIndexed(event.id)) index.push(indexEntry(event.id, offset));
        if (event.type === 'truncated') state.truncated = true;
        if ((event.type === 'stdout' || event.type === 'stderr') && event.bytes) state.emitted[event.type] += event.bytes;
      }
      state.size = statSync(path).size;
    }
    writeFileSync(this.indexPath(runId), Buffer.concat(index));
    state.indexFd = openSync(this.indexPath(runId), 'a');
    state.fd = openSync(path, 'a');
    if (state.size > 0 && !endsWithNewline(path, state.size)) {
      // A line cut short by a crash: end it, so the next event starts a line of its own.
      state.size += writeSync(state.fd, '\n');
    }
    this.open.set(runId, state);
  }

  /** Output bytes already logged per stream: what a resumed run must not log twice. */
  emitted(runId: string): { stdout: number; stderr: number } {
    return { ...(this.open.get(runId)?.emitted ?? { stdout: 0, stderr: 0 }) };
  }

  isTruncated(runId: string): boolean {
    return this.open.get(runId)?.truncated ?? false;
  }

  append(runId: string, type: LogEventType, data: unknown, bytes?: number): void {
    const log = this.open.get(runId);
    if (!log) return;
    if (log.truncated && !ALWAYS_KEPT.has(type)) return;
    const event: StoredLogEvent = { id: log.nextId, time: new Date().toISOString(), type, data };
    if (bytes !== undefined) event.bytes = bytes;
    const line = `${JSON.stringify(event)}\n`;
    if (!ALWAYS_KEPT.has(type) && log.size + Buffer.byteLength(line) > this.maxBytes) {
      log.truncated = true;
      this.append(runId, 'truncated', { max_bytes: this.maxBytes });
      return;
    }
    if (isIndexed(event.id)) writeSync(log.indexFd, indexEntry(event.id, log.size));
    log.size += writeSync(log.fd, line);
    log.nextId += 1;
    if (type === 'stdout' || type === 'stderr') log.emitted[type] += bytes ?? 0;
    for (const wake of log.waiters) wake();
    log.waiters.clear();
  }

  /** Closes the run's log after its `end` event; readers finish what is in the file. */
  finish(runId: string): void {
    const log = this.open.get(runId);
    if (!log) return;
    closeSync(log.fd);
    closeSync(log.indexFd);
    this.open.delete(runId);
    for (const wake of log.waiters) wake();
  }

  remove(runId: string): void {
    this.finish(runId);
    rmSync(this.path(runId), { force: true });
    rmSync(this.indexPath(runId), { force: true });
  }

  /** Bytes a run's log and index take on disk (0 when gone). */
  sizeOnDisk(runId: string): number {
    const size = (path: string): number => statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    return size(this.path(runId)) + size(this.indexPath(runId));
  }

  /**
   * What the file holds now after `afterId`, at most `limit` events (no waiting). It
   * seeks through the index and reads about what the page holds, however long the log.
   */
  page(runId: string, afterId: number, limit: number): StoredLogEvent[] {
    let fd: number;
    try {
      fd = openSync(this.path(runId), 'r');
    } catch {
      return [];
    }
    const events: StoredLogEvent[] = [];
    try {
      const cursor = new LogCursor(this.offsetOf(runId, afterId + 1), PAGE_CHUNK_BYTES);
      while (events.length < limit) {
        const chunk = cursor.next(fd, this.readAt);
        if (chunk === undefined) break;
        for (const event of chunk) if (event.id > afterId && events.length < limit) events.push(event);
      }
    } finally {
      closeSync(fd);
    }
    return events;
  }

  /** The byte offset to read from for event `id` on: that of the nearest indexed event at or before it. */
  private offsetOf(runId: string, id: number): number {
    let fd: number;
    try {
      fd = openSync(this.indexPath(runId), 'r');
    } catch {
      return 0; // a log without an index is read from its start
    }
    try {
      const entry = Buffer.alloc(INDEX_ENTRY_BYTES);
      const entryAt = (i: number): { id: number; offset: number } | undefined =>
        this.readAt(fd, entry, i * INDEX_ENTRY_BYTES) === INDEX_ENTRY_BYTES ? { id: entry.readDoubleLE(0), offset: entry.readDoubleLE(8) } : undefined;
      // Binary search for the last entry with an id at or before `id`.
      let low = 0;
      let high = Math.floor(fstatSize(fd) / INDEX_ENTRY_BYTES) - 1;
      let offset = 0;
      while (low <= high) {
        const middle = (low + high) >> 1;
        const found = entryAt(middle);
        if (found === undefined) break;
        if (found.id <= id) {
          offset = found.offset;
          low = middle + 1;
        } else {
          high = middle - 1;
        }
      }
      return offset;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Events after `afterId`, tailing the file while the run is live and ending with the
   * run's `end` event (or when the signal aborts, or the log disappears).
   */
  async *read(runId: string, afterId: number, signal?: AbortSignal): AsyncGenerator<StoredLogEvent> {
    const path = this.path(runId);
    const cursor = new LogCursor(this.offsetOf(runId, afterId + 1), READ_CHUNK_BYTES);
    while (!signal?.aborted) {
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch {
        return; // expired or never written
      }
      try {
        for (let chunk = cursor.next(fd, this.readAt); chunk !== undefined; chunk = cursor.next(fd, this.readAt)) {
          for (const event of chunk) {
            if (event.id > afterId) yield event;
            if (event.type === 'end') return;
            if (signal?.aborted) return;
          }
        }
      } finally {
        closeSync(fd);
      }
      const live = this.open.get(runId);
      if (!live) {
        if (statSync(path, { throwIfNoEntry: false })?.size === cursor.offset) return; // finished and fully read
        continue;
      }
      if (live.size > cursor.offset) continue;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', wake);
          live.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, 1000);
        live.waiters.add(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }
}

/**
 * Reads a log forward from a line start, a chunk at a time, handing back the complete
 * lines' events; a line (or a character) split across two reads waits for the next.
 */
class LogCursor {
  private partial = '';
  // Reads end at arbitrary bytes: a character split across two reads must not be mangled.
  private readonly decoder = new StringDecoder('utf8');
  private readonly buffer: Buffer;

  constructor(
    public offset: number,
    chunkBytes: number,
  ) {
    this.buffer = Buffer.alloc(chunkBytes);
  }

  /** The events of the next chunk's complete lines, or undefined at the end of the file. */
  next(fd: number, readAt: ReadAt): StoredLogEvent[] | undefined {
    const read = readAt(fd, this.buffer, this.offset);
    if (read <= 0) return undefined;
    this.offset += read;
    const lines = (this.partial + this.decoder.write(this.buffer.subarray(0, read))).split('\n');
    this.partial = lines.pop() ?? '';
    return parseLines(lines.join('\n'));
  }
}

const isIndexed = (id: number): boolean => (id - 1) % INDEX_EVERY === 0;

function indexEntry(id: number, offset: number): Buffer {
  const entry = Buffer.alloc(INDEX_ENTRY_BYTES);
  entry.writeDoubleLE(id, 0);
  entry.writeDoubleLE(offset, 8);
  return entry;
}

function fstatSize(fd: number): number {
  return fstatSync(fd).size;
}

/** Each complete line's event with the byte offset its line starts at. */
function* linesWithOffsets(bytes: Buffer): Generator<{ event: StoredLogEvent; offset: number }> {
  let start = 0;
  for (let end = bytes.indexOf(0x0a); end >= 0; start = end + 1, end = bytes.indexOf(0x0a, start)) {
    const [event] = parseLines(bytes.subarray(start, end).toString('utf8'));
    if (event) yield { event, offset: start };
  }
  // A last line without its newline (a crash mid-write) still counts if it parses.
  const [last] = parseLines(bytes.subarray(start).toString('utf8'));
  if (last) yield { event: last, offset: start };
}

function endsWithNewline(path: string, size: number): boolean {
  const fd = openSync(path, 'r');
  try {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}

function parseLines(text: string): StoredLogEvent[] {
  const events: StoredLogEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      events.push(JSON.parse(line) as StoredLogEvent);
    } catch {
      // A line cut short by a crash mid-write: everything before it still counts.
    }
  }
  return events;
}
