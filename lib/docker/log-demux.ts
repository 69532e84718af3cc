/**
 * Splits the Engine API's multiplexed attach/log stream (8-byte header: stream type,
 * three zero bytes, big-endian payload length) into stdout and stderr frames.
 * It is a Writable, so `pipeline(engineStream, demuxer)` applies backpressure: the
 * engine is not read faster than `onFrame` consumers accept (one that answers a promise
 * holds the next chunk until it settles).
 */
import { Writable } from 'node:stream';

export type OutputStream = 'stdout' | 'stderr';

const HEADER_BYTES = 8;

export class LogDemuxer extends Writable {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: OutputStream, payload: Buffer) => unknown) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const waits: Promise<void>[] = [];
    try {
      while (this.pending.length >= HEADER_BYTES) {
        const size = this.pending.readUInt32BE(4);
        if (this.pending.length < HEADER_BYTES + size) break;
        // Type 2 is stderr; 0 (stdin echo) and 1 count as stdout.
        const stream: OutputStream = this.pending[0] === 2 ? 'stderr' : 'stdout';
        const wait = this.onFrame(stream, this.pending.subarray(HEADER_BYTES, HEADER_BYTES + size));
        if (wait instanceof Promise) waits.push(wait);
        this.pending = this.pending.subarray(HEADER_BYTES + size);
      }
      if (waits.length === 0) callback();
      else Promise.all(waits).then(() => callback(), callback);
    } catch (err) {
      callback(err as Error);
    }
  }
}
