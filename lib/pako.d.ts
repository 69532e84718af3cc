/**
 * The part of pako 1.x that lib/git-pack-inspector.ts uses (pako has no types of its own;
 * isomorphic-git depends on it, and it inflates the same way here as there).
 */
declare module 'pako' {
  export class Inflate {
    constructor(options?: { chunkSize?: number });
    push(data: Uint8Array, mode?: boolean | number): boolean;
    onData(chunk: Uint8Array): void;
    onEnd(status: number): void;
    readonly ended: boolean;
    readonly err: number;
    readonly msg: string;
    readonly strm: { avail_in: number };
  }
  const pako: { Inflate: typeof Inflate };
  export default pako;
}
