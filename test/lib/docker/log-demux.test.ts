import t from 'tap';
import { LogDemuxer, type OutputStream } from '../../../lib/docker/log-demux.js';

/** One frame of the Engine API's multiplexed stream: type, three zero bytes, big-endian length, payload. */
function frame(type: number, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

async function demux(chunks: Buffer[]): Promise<[OutputStream, string][]> {
  const frames: [OutputStream, string][] = [];
  const demuxer = new LogDemuxer((stream, payload) => frames.push([stream, payload.toString('utf8')]));
  const finished = new Promise<void>((resolve, reject) => {
    demuxer.on('finish', resolve);
    demuxer.on('error', reject);
  });
  for (const chunk of chunks) demuxer.write(chunk);
  demuxer.end();
  await finished;
  return frames;
}

const stream = Buffer.concat([frame(1, 'hello\n'), frame(2, 'oops'), frame(1, ''), frame(0, 'stdin echo'), frame(2, 'é€')]);
const expected: [OutputStream, string][] = [
  ['stdout', 'hello\n'],
  ['stderr', 'oops'],
  ['stdout', ''],
  ['stdout', 'stdin echo'],
  ['stderr', 'é€'],
];

t.test('several frames in one chunk; type 2 is stderr, 0 and 1 stdout; empty frames pass', async (t) => {
  t.strictSame(await demux([stream]), expected);
});

t.test('a chunk boundary at every byte gives the same frames', async (t) => {
  for (let cut = 0; cut <= stream.length; cut++) {
    t.strictSame(await demux([stream.subarray(0, cut), stream.subarray(cut)]), expected, `cut at ${cut}`);
  }
});

t.test('two boundaries anywhere, and one byte per chunk', async (t) => {
  let mismatches = 0;
  for (let a = 1; a < stream.length; a++) {
    for (let b = a; b < stream.length; b++) {
      const got = await demux([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]);
      if (JSON.stringify(got) !== JSON.stringify(expected)) mismatches++;
    }
  }
  t.equal(mismatches, 0, 'every pair of cuts');
  t.strictSame(await demux([...stream].map((byte) => Buffer.from([byte]))), expected);
});

t.test('a frame far larger than a chunk is delivered whole, bytes intact', async (t) => {
  const big = Buffer.alloc(200_000, 'ab');
  const data = Buffer.concat([frame(1, big), frame(2, 'after')]);
  const frames: [OutputStream, Buffer][] = [];
  const demuxer = new LogDemuxer((s, payload) => frames.push([s, Buffer.from(payload)]));
  for (let i = 0; i < data.length; i += 65_536) demuxer.write(data.subarray(i, i + 65_536));
  demuxer.end();
  await new Promise((resolve) => demuxer.on('finish', resolve));
  t.equal(frames.length, 2);
  t.equal(frames[0]![0], 'stdout');
  t.ok(frames[0]![1].equals(big), 'payload equal');
  t.strictSame([frames[1]![0], frames[1]![1].toString()], ['stderr', 'after']);
});

t.test('an incomplete trailing frame is not delivered', async (t) => {
  const whole = frame(1, 'complete');
  const cut = frame(2, 'cut short').subarray(0, 12);
  t.strictSame(await demux([whole, cut]), [['stdout', 'complete']]);
  t.strictSame(await demux([Buffer.from([1, 0, 0])]), [], 'half a header');
});

t.test('an error thrown by the consumer fails the stream', async (t) => {
  const demuxer = new LogDemuxer(() => {
    throw new Error('consumer broke');
  });
  const failed = new Promise<Error>((resolve) => demuxer.on('error', resolve));
  demuxer.write(frame(1, 'x'));
  t.match(await failed, { message: 'consumer broke' });
});
