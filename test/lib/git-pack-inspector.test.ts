// PackInspector and SidebandPackReader: a pack's objects are bounded as their bytes
// arrive, before anything is inflated whole. Packs are built here byte by byte with
// node:zlib, so each attack is exactly the one named.
import t from 'tap';
import { deflateSync } from 'node:zlib';
import { PackInspector } from '../../lib/git-pack-inspector.js';
import { SidebandPackReader } from '../../lib/git-sideband.js';

const BLOB = 3;
const OFS_DELTA = 6;
const MIB = 1024 * 1024;

/** A pack entry's header: type and size, 4 bits then 7 per byte. */
function entryHeader(type: number, size: number): Buffer {
  const bytes = [(type << 4) | (size % 16)];
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    bytes[bytes.length - 1]! |= 0x80;
    bytes.push(rest % 128);
    rest = Math.floor(rest / 128);
  }
  return Buffer.from(bytes);
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  do {
    bytes.push((n % 128) | (n >= 128 ? 0x80 : 0));
    n = Math.floor(n / 128);
  } while (n > 0);
  return Buffer.from(bytes);
}

const blob = (content: Buffer, declared = content.length) => Buffer.concat([entryHeader(BLOB, declared), deflateSync(content)]);
/** An ofs-delta (base one entry back) whose instructions insert `insert` and claim `resultSize`. */
const delta = (baseSize: number, resultSize: number, insert = Buffer.from('x')) => {
  const data = Buffer.concat([varint(baseSize), varint(resultSize), Buffer.from([insert.length]), insert]);
  return Buffer.concat([entryHeader(OFS_DELTA, data.length), Buffer.from([0x10]), deflateSync(data)]);
};
function packHeader(count: number): Buffer {
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'latin1');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(count, 8);
  return header;
}
const pack = (...entries: Buffer[]) => Buffer.concat([packHeader(entries.length), ...entries, Buffer.alloc(20, 0xab)]);

async function inspect(bytes: Buffer, bounds = { objectMaxBytes: MIB, totalMaxBytes: 4 * MIB }, chunk = bytes.length): Promise<PackInspector> {
  const inspector = new PackInspector(bounds);
  for (let i = 0; i < bytes.length; i += chunk) await inspector.write(bytes.subarray(i, i + chunk));
  return inspector;
}

t.test('a pack within the bounds passes, whole or a byte at a time, and its inflated size is counted', async (t) => {
  const p = pack(blob(Buffer.alloc(1000, 1)), blob(Buffer.from('hello')), delta(5, 300));
  for (const chunk of [p.length, 1, 7]) {
    const inspector = await inspect(p, undefined, chunk);
    t.equal(inspector.objects, 3, `chunks of ${chunk}: every object seen`);
    t.equal(inspector.inflatedBytes, 1000 + 5 + 300, 'a delta counts its result');
  }
});

t.test('an object that declares more than the bound is refused from its header alone, before any of it is inflated', async (t) => {
  const inspector = new PackInspector({ objectMaxBytes: MIB, totalMaxBytes: 64 * MIB });
  await inspector.write(packHeader(1));
  await t.rejects(inspector.write(entryHeader(BLOB, 1024 * MIB)), { kind: 'too-large', message: /inflates to 1073741824 bytes, more than 1048576 \(SLIPWAY_GIT_OBJECT_MAX_BYTES\)/ });
});

t.test('a header that declares little but inflates to much is stopped as it inflates', async (t) => {
  await t.rejects(inspect(pack(blob(Buffer.alloc(16 * MIB), 10)), { objectMaxBytes: MIB, totalMaxBytes: MIB }), { kind: 'corrupt', message: /past the 10 bytes its header declares/ });
});

t.test('a small delta whose result would be large is refused by the size its first bytes declare', async (t) => {
  await t.rejects(inspect(pack(blob(Buffer.from('base')), delta(4, 512 * MIB))), { kind: 'too-large', message: /a delta that inflates to 536870912 bytes/ });
});

t.test('many objects under the object bound are refused once their sum passes the total bound', async (t) => {
  const objects = Array.from({ length: 6 }, (_, i) => blob(Buffer.alloc(MIB - i, i)));
  await t.rejects(inspect(pack(...objects), { objectMaxBytes: MIB, totalMaxBytes: 4 * MIB }), { kind: 'too-large', message: /more than 4194304 bytes \(SLIPWAY_GIT_CLONE_DISK_MAX_BYTES\)/ });
});

t.test('a size past 32 bits is refused as what it is, not wrapped to a small number', async (t) => {
  const inspector = new PackInspector({ objectMaxBytes: MIB, totalMaxBytes: MIB });
  await inspector.write(packHeader(1));
  await t.rejects(inspector.write(entryHeader(BLOB, 2 ** 32 + 5)), { message: /inflates to 4294967301 bytes/ });
});

t.test('what is not a pack is refused', async (t) => {
  await t.rejects(inspect(Buffer.from('<html>not a pack at all</html>')), { message: /not a git pack/ });
});

t.test('the side-band reader hands on band 1 only, across chunk boundaries, and a raw pack as it is', async (t) => {
  const pkt = (payload: Buffer | string) => {
    const body = Buffer.from(payload);
    return Buffer.concat([Buffer.from((body.length + 4).toString(16).padStart(4, '0')), body]);
  };
  const data = Buffer.from('PACK-and-more-bytes-of-pack');
  const stream = Buffer.concat([
    pkt('NAK\n'),
    pkt(Buffer.concat([Buffer.from([2]), Buffer.from('Counting objects: 3\n')])),
    pkt(Buffer.concat([Buffer.from([1]), data.subarray(0, 10)])),
    pkt(Buffer.concat([Buffer.from([1]), data.subarray(10)])),
    Buffer.from('0000'),
  ]);
  for (const size of [stream.length, 1, 5]) {
    const reader = new SidebandPackReader();
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i += size) out.push(...reader.push(stream.subarray(i, i + size)));
    t.equal(Buffer.concat(out).toString(), data.toString(), `chunks of ${size}`);
  }
  const raw = new SidebandPackReader();
  t.equal(Buffer.concat([...raw.push(Buffer.concat([pkt('NAK\n'), Buffer.from('PACKxyz')])), ...raw.push(Buffer.from('tail'))]).toString(), 'PACKxyztail', 'no side-band: the rest is pack');
});
