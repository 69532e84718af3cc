/**
 * Bounded, fair concurrency for runs. At most `maxConcurrent` execute at once and at
 * most `maxQueued` wait behind them; anything beyond is refused at once (429 with
 * Retry-After) before a record or a container exists.
 *
 * Slots are shared between callers (owners), not first come first served: each owner
 * has a FIFO of its own, a freed slot goes to the next owner in round-robin order, and
 * one owner executes at most `perOwner.running` runs at once (or fewer, if its policy
 * says so), which the server keeps below `maxConcurrent`, so one caller flooding the
 * queue with long runs always leaves a slot another caller can reach.
 */
import { SlipwayError } from './errors.js';

export interface FairShare {
  /** Runs one owner may execute at once, whatever its policy says (below maxConcurrent). */
  running: number;
  /** Runs one owner may have waiting for a slot. */
  queued: number;
}

/** Whose run it is, and how many it may execute at once (its policy's cap, if any). */
export interface Lane {
  owner: string;
  maxRunning?: number | undefined;
}

interface Waiting {
  start: () => void;
}

interface OwnerLane {
  running: number;
  maxRunning: number;
  maxQueued: number;
  waiting: Waiting[];
}

/** The lane of a run with no owner: an open server's one caller, not held to a share. */
const NO_OWNER: Lane = { owner: '' };

export class RunQueue {
  private running = 0;
  private queued = 0;
  private readonly lanes = new Map<string, OwnerLane>();
  /** Owners with runs waiting, in the order they will be served. */
  private readonly turns: string[] = [];
  private readonly share: FairShare;

  constructor(
    private readonly maxConcurrent: number,
    private readonly maxQueued: number,
    readonly retryAfterSeconds: number,
    share?: Partial<FairShare>,
  ) {
    this.share = {
      running: Math.max(1, Math.min(share?.running ?? maxConcurrent - 1, maxConcurrent)),
      queued: share?.queued ?? maxQueued,
    };
  }

  /** Throws SLIPWAY_ERR_RATE_LIMITED when this owner can neither start nor queue a run. */
  admit(lane: Lane = NO_OWNER): void {
    const own = this.lane(lane);
    if (this.canStart(own)) return;
    if (this.queued >= this.maxQueued) {
      throw this.refusal(`${this.running} runs are executing and ${this.queued} are queued, the most this server takes; retry later`);
    }
    if (own.waiting.length >= own.maxQueued) {
      throw this.refusal(`this caller already has ${own.running} runs executing and ${own.waiting.length} queued, the most this server takes from one caller; retry later`);
    }
  }

  /**
   * Runs `task` when a slot is free and it is this owner's turn. Call `admit()` first,
   * in the same tick, so the bounds hold. If `signal` aborts while waiting, the task
   * never starts.
   */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal, lane: Lane = NO_OWNER): Promise<T> {
    const own = this.lane(lane);
    if (this.canStart(own)) {
      this.take(own);
    } else {
      // A listener added after the abort would never fire: refuse before queueing.
      if (signal?.aborted) throw signal.reason;
      await new Promise<void>((resolve, reject) => {
        const entry: Waiting = {
          start: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = (): void => {
          const index = own.waiting.indexOf(entry);
          if (index >= 0) {
            own.waiting.splice(index, 1);
            this.queued -= 1;
            this.forget(lane.owner);
          }
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        own.waiting.push(entry);
        this.queued += 1;
        if (!this.turns.includes(lane.owner)) this.turns.push(lane.owner);
      });
    }
    try {
      return await task();
    } finally {
      this.release(lane.owner);
    }
  }

  /**
   * Counts a run that is already executing (one picked up after a restart) against the
   * bounds, without waiting: its container runs whether or not there is a slot.
   */
  async hold<T>(task: () => Promise<T>, lane: Lane = NO_OWNER): Promise<T> {
    this.take(this.lane(lane));
    try {
      return await task();
    } finally {
      this.release(lane.owner);
    }
  }

  get stats(): { running: number; queued: number } {
    return { running: this.running, queued: this.queued };
  }

  /** Runs executing and waiting for one owner. */
  ownerStats(owner: string): { running: number; queued: number } {
    const own = this.lanes.get(owner);
    return { running: own?.running ?? 0, queued: own?.waiting.length ?? 0 };
  }

  private lane({ owner, maxRunning }: Lane): OwnerLane {
    // An open server has one caller and nobody to share with: it may use every slot.
    const alone = owner === NO_OWNER.owner;
    const cap = Math.min(maxRunning ?? Infinity, alone ? this.maxConcurrent : this.share.running);
    let own = this.lanes.get(owner);
    if (!own) {
      own = { running: 0, maxRunning: cap, maxQueued: alone ? this.maxQueued : this.share.queued, waiting: [] };
      this.lanes.set(owner, own);
    }
    own.maxRunning = cap;
    return own;
  }

  /** A newcomer starts at once only with a free slot, room in its share, and nobody of its own ahead. */
  private canStart(own: OwnerLane): boolean {
    return this.running < this.maxConcurrent && own.running < own.maxRunning && own.waiting.length === 0;
  }

  private take(own: OwnerLane): void {
    this.running += 1;
    own.running += 1;
  }

  private release(owner: string): void {
    const own = this.lanes.get(owner);
    if (own) own.running -= 1;
    this.running -= 1;
    this.forget(owner);
    this.dispatch();
  }

  /** Hands free slots to waiting runs, one owner at a time in turn. */
  private dispatch(): void {
    let turn = 0;
    while (this.running < this.maxConcurrent && turn < this.turns.length) {
      const owner = this.turns[turn]!;
      const own = this.lanes.get(owner)!;
      if (own.running >= own.maxRunning) {
        turn += 1; // at its share: the next owner's turn
        continue;
      }
      const next = own.waiting.shift()!;
      this.queued -= 1;
      this.take(own);
      // Served: to the back of the line, or out of it when nothing of its own waits.
      this.turns.splice(turn, 1);
      if (own.waiting.length > 0) this.turns.push(owner);
      next.start();
    }
  }

  /** Drops an owner's bookkeeping once it has nothing executing or waiting. */
  private forget(owner: string): void {
    const own = this.lanes.get(owner);
    if (!own || own.waiting.length > 0) return;
    const turn = this.turns.indexOf(owner);
    if (turn >= 0) this.turns.splice(turn, 1);
    if (own.running === 0) this.lanes.delete(owner);
  }

  private refusal(message: string): SlipwayError {
    return new SlipwayError('SLIPWAY_ERR_RATE_LIMITED', message, { retryAfterSeconds: this.retryAfterSeconds });
  }
}
