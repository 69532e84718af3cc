/**
 * Each run's full event log, one NDJSON file per run beside the database, capped in
 * size. Events get ids increasing by one within the run, so a reader can resume
 * exactly after the last id it saw. Readers tail the file rather than holding events
 * in memory, so a slow or stalled reader costs the gateway nothing but a file offset.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { RunLogEvent } from '../schemas/runs.js';

export type LogEventType = RunLogEvent['type'];

/** The event as stored; `bytes` (raw output length) only serves resuming after a restart. */
export interface StoredLogEvent extends RunLogEvent {
  bytes?: number;
}

interface OpenLog {
  fd: number;
  nextId: number;
  size: number;
  truncated: boolean;
  emitted: { stdout: number; stderr: number };
  waiters: Set<() => void>;
}

/** Events that are always written, past the cap too: a reader must always see how a run ended. */
const ALWAYS_KEPT: ReadonlySet<LogEventType> = new Set(['status', 'end', 'truncated']);
const READ_CHUNK_BYTES = 64 * 1024;

export class RunLogs {
  private readonly open = new Map<string, OpenLog>();

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  path(runId: string): string {
    return join(this.dir, `${runId}.ndjson`);
  }

  /** Opens a run's log for appending; an existing file (after a restart) is continued. */
  start(runId: string): void {
    if (this.open.has(runId)) return;
    const path = this.path(runId);
    const state: OpenLog = { fd: -1, nextId: 1, size: 0, truncated: false, emitted: { stdout: 0, stderr: 0 }, waiters: new Set() };
    if (existsSync(path)) {
      for (const event of parseLines(readFileSync(path, 'utf8'))) {
        state.nextId = event.id + 1;
        if (event.type === 'truncated') state.truncated = true;
        if ((event.type === 'stdout' || event.type === 'stderr') && event.bytes) state.emitted[event.type] += event.bytes;
      }
      state.size = statSync(path).size;
    }
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
    this.open.delete(runId);
    for (const wake of log.waiters) wake();
  }

  remove(runId: string): void {
    this.finish(runId);
    rmSync(this.path(runId), { force: true });
  }

  /** What the file holds now after `afterId`, at most `limit` events (no waiting). */
  page(runId: string, afterId: number, limit: number): StoredLogEvent[] {
    let text: string;
    try {
      text = readFileSync(this.path(runId), 'utf8');
    } catch {
      return [];
    }
    return parseLines(text).filter((e) => e.id > afterId).slice(0, limit);
  }

  /**
   * Events after `afterId`, tailing the file while the run is live and ending with the
   * run's `end` event (or when the signal aborts, or the log disappears).
   */
  async *read(runId: string, afterId: number, signal?: AbortSignal): AsyncGenerator<StoredLogEvent> {
    const path = this.path(runId);
    let offset = 0;
    let partial = '';
    // Reads end at arbitrary bytes: a character split across two reads must not be mangled.
    const decoder = new StringDecoder('utf8');
    while (!signal?.aborted) {
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch {
        return; // expired or never written
      }
      const buffer = Buffer.alloc(READ_CHUNK_BYTES);
      let read = 0;
      try {
        while ((read = readSync(fd, buffer, 0, READ_CHUNK_BYTES, offset)) > 0) {
          offset += read;
          const text = partial + decoder.write(buffer.subarray(0, read));
          const lines = text.split('\n');
          partial = lines.pop() ?? '';
          for (const event of parseLines(lines.join('\n'))) {
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
        if (statSync(path, { throwIfNoEntry: false })?.size === offset) return; // finished and fully read
        continue;
      }
      if (live.size > offset) continue;
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
