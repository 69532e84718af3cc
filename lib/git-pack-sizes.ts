/**
 * An object's size from its pack entry's header, without inflating it: the pack index
 * (.idx, version 2) gives the entry's offset, and the first bytes there give type and
 * size. A delta's header gives the delta's size, not the object's: for those, and for
 * objects in no pack, `size` answers null and the caller inflates the object instead.
 * The pack inspector has already bounded every size this reads.
 */
import { open, readdir, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { parseObjectHeader } from './git-pack-inspector.js';

const IDX_MAGIC = 0xff744f63;
/** Enough for any header this needs: one type-and-size byte and up to ten more. */
const HEADER_BYTES = 16;

export class PackedSizes {
  private constructor(private readonly entries: Map<string, { pack: FileHandle; offset: number }>, private readonly handles: FileHandle[]) {}

  static async open(gitdir: string): Promise<PackedSizes> {
    const dir = join(gitdir, 'objects', 'pack');
    const entries = new Map<string, { pack: FileHandle; offset: number }>();
    const handles: FileHandle[] = [];
    try {
      for (const name of (await readdir(dir).catch(() => [])).filter((n) => n.endsWith('.idx'))) {
        const offsets = readIndex(await readFile(join(dir, name)));
        if (!offsets) continue;
        const pack = await open(join(dir, name.replace(/\.idx$/, '.pack')), 'r');
        handles.push(pack);
        for (const [oid, offset] of offsets) entries.set(oid, { pack, offset });
      }
    } catch (err) {
      await Promise.all(handles.map((h) => h.close()));
      throw err;
    }
    return new PackedSizes(entries, handles);
  }

  /** The size of a whole (not deltified) packed object; null when only inflating it can tell. */
  async size(oid: string): Promise<number | null> {
    const entry = this.entries.get(oid);
    if (!entry) return null;
    const { buffer, bytesRead } = await entry.pack.read(Buffer.alloc(HEADER_BYTES), 0, HEADER_BYTES, entry.offset);
    const header = parseObjectHeader(buffer.subarray(0, bytesRead));
    return header && header.type >= 1 && header.type <= 4 ? header.size : null;
  }

  async close(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.close()));
  }
}

/** oid -> pack offset from a version 2 pack index; null for another format. */
function readIndex(idx: Buffer): Map<string, number> | null {
  if (idx.length < 8 + 256 * 4 || idx.readUInt32BE(0) !== IDX_MAGIC || idx.readUInt32BE(4) !== 2) return null;
  const count = idx.readUInt32BE(8 + 255 * 4);
  const names = 8 + 256 * 4;
  const offsets = names + count * 24; // after the names (20 bytes each) and the CRCs (4 each)
  const large = offsets + count * 4;
  const map = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    let offset = idx.readUInt32BE(offsets + i * 4);
    // Packs past 2 GiB keep large offsets in a table of their own.
    if (offset & 0x80000000) offset = Number(idx.readBigUInt64BE(large + (offset & 0x7fffffff) * 8));
    map.set(idx.toString('hex', names + i * 20, names + i * 20 + 20), offset);
  }
  return map;
}
