/**
 * Bounded concurrency for runs: at most `maxConcurrent` execute at once, at most
 * `maxQueued` wait behind them, and anything beyond is refused at once (429 with
 * Retry-After) before a record or a container exists.
 */
import { SlipwayError } from './errors.js';

interface Waiting {
  start: () => void;
  cancel: (reason: unknown) => void;
}

export class RunQueue {
  private running = 0;
  private readonly waiting: Waiting[] = [];

  constructor(
    private readonly maxConcurrent: number,
    private readonly maxQueued: number,
    readonly retryAfterSeconds: number,
  ) {}

  /** Throws SLIPWAY_ERR_RATE_LIMITED when neither a slot nor a queue place is free. */
  admit(): void {
    if (this.running < this.maxConcurrent) return;
    if (this.waiting.length < this.maxQueued) return;
    throw new SlipwayError(
      'SLIPWAY_ERR_RATE_LIMITED',
      `${this.running} runs are executing and ${this.waiting.length} are queued, the most this server takes; retry later`,
      { retryAfterSeconds: this.retryAfterSeconds },
    );
  }

  /**
   * Runs `task` when a slot is free. Call `admit()` first, in the same tick, so the
   * bound holds. If `signal` aborts while waiting, the task never starts.
   */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.running >= this.maxConcurrent) {
      // A listener added after the abort would never fire: refuse before queueing.
      if (signal?.aborted) throw signal.reason;
      await new Promise<void>((resolve, reject) => {
        const entry: Waiting = {
          start: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
          cancel: reject,
        };
        const onAbort = (): void => {
          const index = this.waiting.indexOf(entry);
          if (index >= 0) this.waiting.splice(index, 1);
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(entry);
      });
    } else {
      this.running += 1;
    }
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /**
   * Counts a run that is already executing (one picked up after a restart) against the
   * bound, without waiting: its container runs whether or not there is a slot.
   */
  async hold<T>(task: () => Promise<T>): Promise<T> {
    this.running += 1;
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next.start(); // the slot passes straight to the next run
    else this.running -= 1;
  }

  get stats(): { running: number; queued: number } {
    return { running: this.running, queued: this.waiting.length };
  }
}
