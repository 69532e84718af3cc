/**
 * Keeps the head of one output stream up to a byte cap and only counts the rest, so a
 * run that prints gigabytes costs the gateway at most `capBytes` of memory per stream.
 */
export class OutputCollector {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  /** Every byte the stream produced, kept or not. */
  total = 0;

  constructor(private readonly capBytes: number) {}

  add(chunk: Buffer): void {
    this.total += chunk.length;
    const room = this.capBytes - this.kept;
    if (room <= 0) return;
    // Copy: the engine's buffers are reused by the demuxer's slicing.
    const slice = chunk.length <= room ? Buffer.from(chunk) : Buffer.from(chunk.subarray(0, room));
    this.chunks.push(slice);
    this.kept += slice.length;
  }

  get truncated(): boolean {
    return this.total > this.kept;
  }

  text(): string {
    return Buffer.concat(this.chunks, this.kept).toString('utf8');
  }
}
