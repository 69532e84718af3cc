/**
 * Turns the events of one tool call (lib/run-events.ts) into MCP notifications on that
 * call's own SSE stream: `notifications/progress` when the caller sent a progressToken
 * (so its client can reset a request timeout while a long run goes on), and output
 * lines as `notifications/message` at the level the session asked for.
 *
 * Both are bounded: a run that prints a million lines must not become a million
 * notifications (each one is also kept by the session's event store). Progress is
 * throttled; log lines stop after a cap with one warning, and the result still carries
 * the output.
 */
import { LoggingLevelSchema, type LoggingLevel, type ProgressToken, type ServerNotification } from '@modelcontextprotocol/sdk/types.js';
import type { PullProgress, RunEvent } from '../../lib/run-events.js';

/** At most one output or pull progress notification per this interval; status changes always go. */
export const PROGRESS_INTERVAL_MS = 250;
/** Output lines sent as log messages per call; the rest only reach the result. */
export const MAX_LOG_LINES = 1000;
/** Longer lines are cut (and a partial line this long is sent without waiting for its newline). */
export const MAX_LINE_CHARS = 4096;

const SEVERITY = new Map(LoggingLevelSchema.options.map((level, index) => [level, index]));

/** Whether a message at `level` passes the session's `logging/setLevel` (everything passes before one). */
export function levelEnabled(level: LoggingLevel, minimum: LoggingLevel | undefined): boolean {
  return minimum === undefined || SEVERITY.get(level)! >= SEVERITY.get(minimum)!;
}

type OutputStream = 'stdout' | 'stderr';

export class RunNotifier {
  private step = 0;
  private lastProgressAt = 0;
  private lines = 0;
  /** The line count the last output progress reported, so the final count is never lost to throttling. */
  private reportedLines = 0;
  private logLines = 0;
  private readonly partial: Record<OutputStream, string> = { stdout: '', stderr: '' };
  private readonly pending = new Set<Promise<void>>();

  /**
   * @param send sends a notification related to the call (the SDK's `extra.sendNotification`,
   *   which attaches relatedRequestId and goes quiet once the call is cancelled).
   * @param progressToken the call's `_meta.progressToken`, if the caller wants progress.
   * @param minimumLevel the session's current logging level.
   */
  constructor(
    private readonly send: (notification: ServerNotification) => Promise<void>,
    private readonly progressToken: ProgressToken | undefined,
    private readonly minimumLevel: () => LoggingLevel | undefined,
  ) {}

  /** The executor's onEvent callback. */
  readonly onEvent = (event: RunEvent): void => {
    switch (event.type) {
      case 'status': {
        const detail = event.container_id ? ` (container ${event.container_id.slice(0, 12)})` : '';
        this.log('notice', 'slipway', { event: 'status', status: event.status, ...(event.container_id ? { container_id: event.container_id } : {}) });
        this.progress(`status: ${event.status}${detail}`, true);
        break;
      }
      case 'pull':
        this.progress(pullMessage(event.progress), false);
        break;
      case 'output':
        this.output(event.stream, event.data);
        break;
      case 'build':
        this.log('info', 'build', event.line.slice(0, MAX_LINE_CHARS));
        this.progress(`build: ${event.line.slice(0, 200)}`, false);
        break;
    }
  };

  /** pullImage's onProgress callback. */
  readonly onPull = (progress: PullProgress): void => this.onEvent({ type: 'pull', progress });

  /** Sends what is still buffered and waits for every notification, so all precede the result. */
  async flush(): Promise<void> {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream] !== '') this.line(stream, this.partial[stream]);
      this.partial[stream] = '';
    }
    if (this.lines !== this.reportedLines && this.progress(this.outputMessage(), true)) this.reportedLines = this.lines;
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private output(stream: OutputStream, data: string): void {
    const parts = (this.partial[stream] + data).split('\n');
    this.partial[stream] = parts.pop()!;
    for (const part of parts) this.line(stream, part);
    // A line past the cap goes out in pieces, so what waits for a newline stays bounded.
    while (this.partial[stream].length >= MAX_LINE_CHARS) {
      this.line(stream, this.partial[stream].slice(0, MAX_LINE_CHARS));
      this.partial[stream] = this.partial[stream].slice(MAX_LINE_CHARS);
    }
    if (this.progress(this.outputMessage(), false)) this.reportedLines = this.lines;
  }

  private line(stream: OutputStream, text: string): void {
    this.lines++;
    if (this.logLines > MAX_LOG_LINES) return;
    if (this.logLines === MAX_LOG_LINES) {
      this.logLines++;
      this.log('warning', 'slipway', `more than ${MAX_LOG_LINES} output lines: the rest are not sent as notifications; the result carries the output`);
      return;
    }
    this.logLines++;
    this.log('info', stream, text.replace(/\r$/, '').slice(0, MAX_LINE_CHARS));
  }

  private outputMessage(): string {
    return `${this.lines} line${this.lines === 1 ? '' : 's'} of output so far`;
  }

  /** Sends a progress notification unless throttled; says whether it did. */
  private progress(message: string, always: boolean): boolean {
    if (this.progressToken === undefined) return false;
    const now = Date.now();
    if (!always && now - this.lastProgressAt < PROGRESS_INTERVAL_MS) return false;
    this.lastProgressAt = now;
    // The spec wants progress to increase with every notification; there is no known total.
    this.track(this.send({ method: 'notifications/progress', params: { progressToken: this.progressToken, progress: ++this.step, message } }));
    return true;
  }

  private log(level: LoggingLevel, logger: string, data: unknown): void {
    if (!levelEnabled(level, this.minimumLevel())) return;
    this.track(this.send({ method: 'notifications/message', params: { level, logger, data } }));
  }

  private track(sent: Promise<void>): void {
    // A notification that cannot be delivered (call cancelled, session closed) is dropped:
    // it must never fail the run. The session's event store keeps those a client can resume.
    const p = sent.catch(() => undefined).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }
}

function pullMessage(p: PullProgress): string {
  const layer = p.id ? ` ${p.id}` : '';
  const mb = (n: number) => (n / 1e6).toFixed(1);
  const amount = p.current !== undefined && p.total !== undefined && p.total > 0 ? ` ${mb(p.current)}/${mb(p.total)} MB` : '';
  return `pulling image:${layer} ${p.status}${amount}`.replace(/\s+/g, ' ').trim();
}
