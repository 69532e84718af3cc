/**
 * Bounds what a fetched pack may inflate to, while it is received and before
 * isomorphic-git inflates anything. isomorphic-git collects the pack in memory and then
 * inflates every object whole (one synchronous pako call each), so a megabyte of
 * compressed zeros became a gigabyte in the gateway's memory. Here every object is
 * checked as its bytes arrive:
 *
 * - its header's declared size (and a delta's declared result size, from the first
 *   bytes of the delta) against `objectMaxBytes`, before it is inflated;
 * - its real inflated size, counted in slices of a few kilobytes and thrown away at
 *   once, against what its header declared: a header that lies cannot make the later,
 *   whole inflation bigger than the bound;
 * - the sum over the pack against `totalMaxBytes`.
 *
 * The event loop gets a turn between slices, so other callers are served meanwhile.
 * Sizes are decoded with arithmetic, not 32-bit shifts: a size isomorphic-git would
 * wrap around to something small is refused here as what it is.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import pako, { type Inflate } from 'pako';

export interface PackBounds {
  /** Bytes one object (or a delta's result) may inflate to: SLIPWAY_GIT_OBJECT_MAX_BYTES. */
  objectMaxBytes: number;
  /** Bytes all objects of the pack may inflate to together: SLIPWAY_GIT_CLONE_DISK_MAX_BYTES. */
  totalMaxBytes: number;
}

/** Why a pack was refused: the caller turns it into the catalogue's error. */
export class PackRefusal extends Error {
  constructor(
    message: string,
    readonly kind: 'too-large' | 'corrupt',
  ) {
    super(message);
  }
}

const OFS_DELTA = 6;
const REF_DELTA = 7;
/** Input per inflate call: at most ~1,000x that comes out, a few milliseconds of work. */
const SLICE_BYTES = 8 * 1024;
/** Inflated bytes between two turns of the event loop. */
const YIELD_EVERY_BYTES = 8 * 1024 * 1024;
/** A delta starts with two varints (base size, result size); 10 bytes each is plenty. */
const DELTA_HEAD_BYTES = 20;

interface ObjectHeader {
  type: number;
  size: number;
  /** Bytes the header took. */
  length: number;
}

export class PackInspector {
  /** Sum of inflated sizes so far (a delta counts its result). */
  inflatedBytes = 0;
  objects = 0;
  private pending = Buffer.alloc(0);
  private remaining: number | null = null;
  private current: { header: ObjectHeader; inflater: Inflate; out: number; deltaHead: Buffer | null } | null = null;
  private sinceYield = 0;

  constructor(private readonly bounds: PackBounds) {}

  /** Takes the next bytes of the pack, in order; rejects with a PackRefusal past a bound. */
  async write(bytes: Buffer): Promise<void> {
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, bytes]) : bytes;
    this.pending = Buffer.alloc(0);
    while (data.length > 0 && this.remaining !== 0) {
      if (this.remaining === null) {
        if (data.length < 12) break;
        if (data.toString('latin1', 0, 4) !== 'PACK') throw new PackRefusal('the server sent something that is not a git pack', 'corrupt');
        this.remaining = data.readUInt32BE(8);
        data = data.subarray(12);
        continue;
      }
      if (!this.current) {
        const header = parseObjectHeader(data);
        if (!header) break; // the header continues in the next chunk
        this.start(header);
        data = data.subarray(header.length);
        continue;
      }
      data = await this.inflate(data);
    }
    // Only a partial header (or pack header) is ever kept: a few bytes.
    if (data.length > 0 && this.remaining !== 0) this.pending = Buffer.from(data);
  }

  private start(header: ObjectHeader): void {
    if (header.type === 0 || header.type === 5) throw new PackRefusal(`the pack holds an object of unknown type ${header.type}`, 'corrupt');
    this.checkObjectSize(header.size, 'an object');
    const delta = header.type === OFS_DELTA || header.type === REF_DELTA;
    if (!delta) this.addToTotal(header.size);
    const inflater = new pako.Inflate();
    const current = { header, inflater, out: 0, deltaHead: delta ? Buffer.alloc(0) : null };
    // Count the output and drop it: nothing of the object is kept.
    inflater.onData = (chunk: Uint8Array) => {
      current.out += chunk.length;
      if (current.deltaHead && current.deltaHead.length < DELTA_HEAD_BYTES) {
        current.deltaHead = Buffer.concat([current.deltaHead, Buffer.from(chunk.subarray(0, DELTA_HEAD_BYTES))]);
      }
    };
    inflater.onEnd = () => undefined;
    this.current = current;
  }

  /** Inflates what `data` holds of the current object; returns the bytes after it. */
  private async inflate(data: Buffer): Promise<Buffer> {
    const current = this.current!;
    let offset = 0;
    while (offset < data.length) {
      const slice = data.subarray(offset, offset + SLICE_BYTES);
      const before = current.out;
      current.inflater.push(slice, false);
      if (current.inflater.err) throw new PackRefusal(`an object of the pack does not inflate: ${current.inflater.msg}`, 'corrupt');
      if (current.out > current.header.size) {
        throw new PackRefusal(`an object of the pack inflates past the ${current.header.size} bytes its header declares`, 'corrupt');
      }
      this.checkDeltaResult(current);
      offset += current.inflater.ended ? slice.length - current.inflater.strm.avail_in : slice.length;
      this.sinceYield += current.out - before + slice.length;
      if (this.sinceYield >= YIELD_EVERY_BYTES) {
        this.sinceYield = 0;
        await nextTurn();
      }
      if (current.inflater.ended) {
        if (current.deltaHead) this.checkDeltaResult(current, true);
        this.current = null;
        this.objects++;
        this.remaining!--;
        return data.subarray(offset);
      }
    }
    return data.subarray(offset);
  }

  /** A delta's result size is its second varint: checked as soon as its bytes are out. */
  private checkDeltaResult(current: NonNullable<PackInspector['current']>, ended = false): void {
    if (!current.deltaHead) return;
    const base = readVarint(current.deltaHead, 0);
    const result = base ? readVarint(current.deltaHead, base.next) : null;
    if (!result) {
      if (ended) throw new PackRefusal('a delta of the pack is cut short', 'corrupt');
      return;
    }
    current.deltaHead = null;
    this.checkObjectSize(result.value, 'a delta that');
    this.addToTotal(result.value);
  }

  private checkObjectSize(size: number, what: string): void {
    if (size > this.bounds.objectMaxBytes) {
      throw new PackRefusal(`${what} inflates to ${size} bytes, more than ${this.bounds.objectMaxBytes} (SLIPWAY_GIT_OBJECT_MAX_BYTES)`, 'too-large');
    }
  }

  private addToTotal(size: number): void {
    this.inflatedBytes += size;
    if (this.inflatedBytes > this.bounds.totalMaxBytes) {
      throw new PackRefusal(`its objects inflate to more than ${this.bounds.totalMaxBytes} bytes (SLIPWAY_GIT_CLONE_DISK_MAX_BYTES)`, 'too-large');
    }
  }
}

/** Type and size of a pack entry, plus the delta base reference; null if `data` ends first. */
export function parseObjectHeader(data: Buffer): ObjectHeader | null {
  let i = 0;
  let byte = data[i++];
  if (byte === undefined) return null;
  const type = (byte >> 4) & 0b111;
  let size = byte & 0b1111;
  let scale = 16;
  while (byte & 0x80) {
    byte = data[i++];
    if (byte === undefined) return null;
    size += (byte & 0x7f) * scale;
    scale *= 128;
    if (scale > 2 ** 60) throw new PackRefusal('an object header of the pack is malformed', 'corrupt');
  }
  if (type === OFS_DELTA) {
    do {
      byte = data[i++];
      if (byte === undefined) return null;
    } while (byte & 0x80);
  } else if (type === REF_DELTA) {
    i += 20;
    if (i > data.length) return null;
  }
  return { type, size, length: i };
}

/** A little-endian base-128 varint (a delta's sizes). */
function readVarint(data: Buffer, start: number): { value: number; next: number } | null {
  let value = 0;
  let scale = 1;
  for (let i = start; i < data.length; i++) {
    const byte = data[i]!;
    value += (byte & 0x7f) * scale;
    if (!(byte & 0x80)) return { value, next: i + 1 };
    scale *= 128;
    if (scale > 2 ** 60) throw new PackRefusal('a delta header of the pack is malformed', 'corrupt');
  }
  return null;
}
