/**
 * What an image build is given and what comes out of it. Builds are interpreted by the
 * gateway step by step (lib/docker/dockerfile-build.ts) rather than handed to the
 * daemon's `POST /build`, whose step containers cannot be given a pids limit, dropped
 * capabilities or no-new-privileges, and which fetches `ADD <url>` from the host's network.
 */

export interface BuildLimits {
  memoryBytes: number;
  cpus: number;
  /** SLIPWAY_BUILD_PIDS_LIMIT: processes of one step. */
  pidsLimit: number;
  /** The whole build: every step and commit together. */
  timeoutSeconds: number;
  /** SLIPWAY_BUILD_NETWORK: RUN steps get the default bridge instead of no network. */
  network: boolean;
  /** SLIPWAY_BUILD_MAX_LAYER_BYTES: what one step may write (its container's writable layer). */
  maxLayerBytes: number;
}

export type ImageBuildOutcome =
  | { ok: true; imageId: string; log: string }
  | { ok: false; reason: 'failed' | 'timed_out'; message: string; stepLog: string; log: string };

/** The last lines that fit in `maxBytes`; what fell off the front is counted and said. */
export class BoundedLines {
  private readonly lines: string[] = [];
  private bytes = 0;
  private dropped = 0;

  constructor(private readonly maxBytes: number) {}

  push(line: string): void {
    const size = Buffer.byteLength(line) + 1;
    // A single line longer than the whole budget keeps its end.
    const kept = size > this.maxBytes ? line.slice(-Math.floor(this.maxBytes / 4)) : line;
    this.lines.push(kept);
    this.bytes += Buffer.byteLength(kept) + 1;
    this.dropped += size - (Buffer.byteLength(kept) + 1);
    while (this.bytes > this.maxBytes && this.lines.length > 1) {
      const first = this.lines.shift()!;
      this.bytes -= Buffer.byteLength(first) + 1;
      this.dropped += Buffer.byteLength(first) + 1;
    }
  }

  text(): string {
    const body = this.lines.join('\n');
    return this.dropped > 0 ? `[${this.dropped} bytes of earlier output omitted]\n${body}` : body;
  }
}
