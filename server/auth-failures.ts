/**
 * Failed authentication per client address. Limits on requests apply per token, after
 * authentication; without this, guessing tokens would be free. An address that
 * presents more than `maxPerWindow` wrong tokens in a window is refused (429 with
 * Retry-After) until the window ends, valid token or not: an answer that depended on
 * the token would still tell a guess that hit.
 */
import { SlipwayError } from '../lib/errors.js';

interface Window {
  failures: number;
  endsAt: number;
}

/** Addresses remembered at once; expired windows are dropped before the map grows past this. */
const MAX_TRACKED_ADDRESSES = 10_000;

export class AuthFailureLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly maxPerWindow: number,
    private readonly windowMs: number,
  ) {}

  /** Throws 429 while `address` is locked out. */
  check(address: string, now = Date.now()): void {
    const window = this.windows.get(address);
    if (!window || window.endsAt <= now || window.failures < this.maxPerWindow) return;
    throw new SlipwayError('SLIPWAY_ERR_RATE_LIMITED', `more than ${this.maxPerWindow} failed authentications from this address; retry later`, {
      retryAfterSeconds: Math.max(1, Math.ceil((window.endsAt - now) / 1000)),
    });
  }

  /** Counts a wrong token presented from `address`. */
  fail(address: string, now = Date.now()): void {
    let window = this.windows.get(address);
    if (!window || window.endsAt <= now) {
      if (this.windows.size >= MAX_TRACKED_ADDRESSES) this.dropExpired(now);
      window = { failures: 0, endsAt: now + this.windowMs };
      this.windows.set(address, window);
    }
    window.failures += 1;
  }

  /** Keeps memory bounded against many addresses: expired windows go first, then the oldest. */
  private dropExpired(now: number): void {
    for (const [address, window] of this.windows) if (window.endsAt <= now) this.windows.delete(address);
    for (const address of this.windows.keys()) {
      if (this.windows.size < MAX_TRACKED_ADDRESSES) break;
      this.windows.delete(address);
    }
  }
}
