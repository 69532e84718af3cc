/**
 * Open SSE streams per caller: each stream holds a socket and a file reader for as
 * long as a run lasts, so one token cannot open them without bound.
 */
import { SlipwayError } from '../lib/errors.js';

export class StreamCounter {
  private readonly open = new Map<string, number>();

  constructor(private readonly maxPerCaller: number) {}

  /** Streams open now, all callers together (a metrics gauge). */
  get total(): number {
    let sum = 0;
    for (const count of this.open.values()) sum += count;
    return sum;
  }

  /** Counts a stream for `key`, or throws 429; call the returned function when it ends. */
  acquire(key: string): () => void {
    const count = this.open.get(key) ?? 0;
    if (count >= this.maxPerCaller) {
      throw new SlipwayError('SLIPWAY_ERR_RATE_LIMITED', `at most ${this.maxPerCaller} log streams may be open at once`, { retryAfterSeconds: 5 });
    }
    this.open.set(key, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(key) ?? 1) - 1;
      if (left === 0) this.open.delete(key);
      else this.open.set(key, left);
    };
  }
}
