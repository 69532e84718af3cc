/**
 * Where a run followed again after a restart picks its output up. The engine keeps a
 * bounded log (json-file, max-size 10m): a run that printed more than that while the
 * gateway was down has lost the start of it there. So the earlier process's own run log
 * is the truth about what came before: its head becomes the head of the result's
 * output, and the engine's log is read with timestamps to know where it starts:
 *
 * - it starts no later than the first output the earlier process logged: the engine
 *   still has everything, and exactly the bytes already logged are skipped;
 * - it starts later: its start is gone. What it stamped up to the earlier process's
 *   last logged output was logged then; the rest is new. If it starts after that last
 *   output, what lay between is lost, and a `gap` event says so where it happened.
 *
 * Engine and gateway share a clock on one host; a line the engine stamped just before
 * the earlier process's last logged output but delivered after it could be dropped at
 * the boundary (milliseconds of output, in the rotated case only).
 */
import type { StoredLogEvent } from './run-log.js';
import type { OutputGap } from './run-events.js';

/** What the earlier process logged of a run's output. */
export interface EarlierOutput {
  /** Bytes logged per stream (what to skip when the engine's log is whole). */
  emitted: { stdout: number; stderr: number };
  /** The first output of each stream as logged, up to the output cap: the result's true start. */
  head: { stdout: string; stderr: string };
  /** Receive times (epoch ms) of the first and last output logged; undefined when none was. */
  firstOutputAt?: number | undefined;
  lastOutputAt?: number | undefined;
}

export const NO_EARLIER_OUTPUT: EarlierOutput = { emitted: { stdout: 0, stderr: 0 }, head: { stdout: '', stderr: '' } };

/** Reads the earlier process's output from its run log events. */
export function earlierOutput(events: Iterable<StoredLogEvent>, capBytes: number): EarlierOutput {
  const out: EarlierOutput = { emitted: { stdout: 0, stderr: 0 }, head: { stdout: '', stderr: '' } };
  for (const event of events) {
    if (event.type !== 'stdout' && event.type !== 'stderr') continue;
    const text = String(event.data);
    out.emitted[event.type] += event.bytes ?? Buffer.byteLength(text);
    if (Buffer.byteLength(out.head[event.type]) < capBytes) out.head[event.type] += text;
    const at = Date.parse(event.time);
    out.firstOutputAt ??= at;
    out.lastOutputAt = at;
  }
  return out;
}

/** `2026-11-29T17:00:00.123456789Z payload` -> epoch ms (fractional) and the payload. */
export function splitTimestamp(frame: Buffer): { at: number; data: Buffer } {
  const space = frame.indexOf(0x20);
  const stamp = space > 0 ? frame.subarray(0, space).toString('latin1') : '';
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(stamp);
  if (!m) return { at: Number.NaN, data: frame };
  const fraction = Number(`0.${m[2] ?? '0'}`);
  return { at: Date.parse(`${m[1]}${m[3]}`) + fraction * 1000, data: frame.subarray(space + 1) };
}

/** The engine's stamps are finer than the run log's milliseconds. */
const STAMP_SLACK_MS = 1;

export type FrameVerdict = { keep: false } | { keep: true; data: Buffer; skipBytes: boolean };

/**
 * Decides, frame by frame, what of the engine's timestamped log is new. `onRotated`
 * runs once, when the engine's log turns out to have lost its start (the caller then
 * takes the head from the earlier process's log); `onGap` when output was lost too.
 */
export class ResumePoint {
  private mode: 'whole' | 'rotated' | undefined;

  constructor(
    private readonly earlier: EarlierOutput,
    private readonly onRotated: () => void,
    private readonly onGap: (gap: OutputGap) => void,
  ) {}

  frame(frame: Buffer): FrameVerdict {
    const { at, data } = splitTimestamp(frame);
    const { firstOutputAt, lastOutputAt } = this.earlier;
    if (this.mode === undefined) {
      const whole = firstOutputAt === undefined || lastOutputAt === undefined || Number.isNaN(at) || at <= firstOutputAt + STAMP_SLACK_MS;
      this.mode = whole ? 'whole' : 'rotated';
      if (!whole) {
        this.onRotated();
        // The engine's log starts after the last output logged: what lay between is gone.
        if (at > lastOutputAt! + STAMP_SLACK_MS) this.onGap(gapBetween(lastOutputAt!, at));
      }
    }
    if (this.mode === 'whole') return { keep: true, data, skipBytes: true };
    // Rotated: what the engine stamped up to the last output logged was logged then.
    if (at <= lastOutputAt! + STAMP_SLACK_MS) return { keep: false };
    return { keep: true, data, skipBytes: false };
  }
}

function gapBetween(lastLoggedAt: number, resumedAt: number): OutputGap {
  const after = new Date(lastLoggedAt).toISOString();
  const resumed = new Date(resumedAt).toISOString();
  return {
    after,
    resumed_at: resumed,
    message: `output printed between ${after} and ${resumed} was lost: the gateway was down, and the engine keeps only the end of a long log`,
  };
}
