import t from 'tap';
import { earlierOutput, ResumePoint, splitTimestamp, type EarlierOutput } from '../../lib/resume-point.js';
import type { StoredLogEvent } from '../../lib/run-log.js';
import type { OutputGap } from '../../lib/run-events.js';

const at = (ms: number) => new Date(Date.UTC(2026, 10, 29, 17, 0, 0) + ms).toISOString();
const event = (id: number, type: StoredLogEvent['type'], data: unknown, ms: number, bytes?: number): StoredLogEvent => ({ id, time: at(ms), type, data, ...(bytes === undefined ? {} : { bytes }) });
const stamped = (ms: number, text: string) => Buffer.from(`${at(ms).replace('Z', '123456Z')} ${text}`);

t.test('earlierOutput: bytes per stream, the head up to the cap, first and last output times', async (t) => {
  const out = earlierOutput([event(1, 'status', { status: 'running' }, 0), event(2, 'stdout', 'ab\n', 10, 3), event(3, 'stderr', 'é', 20, 2), event(4, 'stdout', 'cd\n', 30, 3), event(5, 'stdout', 'ef\n', 40, 3)], 4);
  t.strictSame(out.emitted, { stdout: 9, stderr: 2 });
  t.strictSame(out.head, { stdout: 'ab\ncd\n', stderr: 'é' }, 'whole events until the cap is reached');
  t.equal(out.firstOutputAt, Date.parse(at(10)));
  t.equal(out.lastOutputAt, Date.parse(at(40)));
  t.strictSame(earlierOutput([], 10), { emitted: { stdout: 0, stderr: 0 }, head: { stdout: '', stderr: '' } });
});

t.test('splitTimestamp reads the engine\'s RFC 3339 nanosecond stamp', async (t) => {
  const { at: ms, data } = splitTimestamp(Buffer.from('2026-11-29T17:00:00.000500000Z hello world\n'));
  t.equal(ms, Date.parse('2026-11-29T17:00:00Z') + 0.5);
  t.equal(data.toString(), 'hello world\n');
  t.ok(Number.isNaN(splitTimestamp(Buffer.from('no stamp here')).at));
});

function follow(earlier: EarlierOutput, frames: Buffer[]) {
  const calls: { rotated: number; gaps: OutputGap[] } = { rotated: 0, gaps: [] };
  const point = new ResumePoint(earlier, () => calls.rotated++, (gap) => calls.gaps.push(gap));
  const verdicts = frames.map((f) => point.frame(f));
  return { calls, verdicts };
}
const earlier: EarlierOutput = { emitted: { stdout: 6, stderr: 0 }, head: { stdout: '1\n2\n3\n', stderr: '' }, firstOutputAt: Date.parse(at(100)), lastOutputAt: Date.parse(at(200)) };

t.test('an engine log that still holds the start: every frame kept, the logged bytes skipped by count', async (t) => {
  const { calls, verdicts } = follow(earlier, [stamped(99, '1\n'), stamped(150, '2\n'), stamped(300, '4\n')]);
  t.strictSame(calls, { rotated: 0, gaps: [] });
  t.ok(verdicts.every((v) => v.keep && v.skipBytes));
});

t.test('a rotated engine log overlapping what was logged: the overlap dropped by time, no gap', async (t) => {
  const { calls, verdicts } = follow(earlier, [stamped(150, '2\n'), stamped(200, '3\n'), stamped(250, '4\n')]);
  t.strictSame(calls, { rotated: 1, gaps: [] });
  t.strictSame(verdicts.map((v) => v.keep && v.data.toString()), [false, false, '4\n']);
});

t.test('a rotated engine log starting after the last logged output: one gap, marked before the first new frame', async (t) => {
  const { calls, verdicts } = follow(earlier, [stamped(5000, '900\n'), stamped(5001, '901\n')]);
  t.equal(calls.rotated, 1);
  t.equal(calls.gaps.length, 1);
  t.match(calls.gaps[0], { after: at(200), resumed_at: /^2026-11-29T17:00:05\.000/, message: /was lost/ });
  t.strictSame(verdicts.map((v) => v.keep && !v.skipBytes && v.data.toString()), ['900\n', '901\n']);
});

t.test('nothing logged before: the engine log is taken whole', async (t) => {
  const none: EarlierOutput = { emitted: { stdout: 0, stderr: 0 }, head: { stdout: '', stderr: '' } };
  const { calls, verdicts } = follow(none, [stamped(5000, 'x\n')]);
  t.strictSame(calls, { rotated: 0, gaps: [] });
  t.ok(verdicts[0]!.keep);
});
