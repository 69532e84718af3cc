import t from 'tap';
import { appendFileSync, existsSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { INDEX_EVERY, RunLogs, type StoredLogEvent } from '../../lib/run-log.js';

const RUN = '00000000-0000-4000-8000-000000000001';

function logs(t: { testdir(): string }, maxBytes = 1024 * 1024, dir = t.testdir()): RunLogs {
  return new RunLogs(dir, maxBytes);
}

async function collect(iterable: AsyncIterable<StoredLogEvent>): Promise<StoredLogEvent[]> {
  const events: StoredLogEvent[] = [];
  for await (const event of iterable) events.push(event);
  return events;
}

/** Fails the test instead of hanging it when a reader does not end. */
function within<T>(promise: Promise<T>, ms = 5000): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`not done within ${ms} ms`)), ms).unref())]);
}

const shape = (events: StoredLogEvent[]) => events.map((e) => [e.id, e.type, e.data]);

t.test('events get consecutive ids from 1 and are written as NDJSON', async (t) => {
  const l = logs(t);
  l.start(RUN);
  l.append(RUN, 'status', { status: 'running' });
  l.append(RUN, 'stdout', 'hello\n', 6);
  l.append(RUN, 'stderr', 'oops', 4);
  l.append(RUN, 'end', { status: 'succeeded' });
  l.finish(RUN);
  const lines = readFileSync(l.path(RUN), 'utf8').split('\n');
  t.equal(lines.length, 5, 'four lines and a final newline');
  t.equal(lines[4], '');
  const events = lines.slice(0, 4).map((line) => JSON.parse(line) as StoredLogEvent);
  t.strictSame(shape(events), [
    [1, 'status', { status: 'running' }],
    [2, 'stdout', 'hello\n'],
    [3, 'stderr', 'oops'],
    [4, 'end', { status: 'succeeded' }],
  ]);
  t.equal(events[1]!.bytes, 6);
  t.notOk('bytes' in events[0]!, 'no bytes on events without output');
  t.ok(events.every((e) => !Number.isNaN(Date.parse(e.time))), 'ISO times');
  l.append(RUN, 'stdout', 'after finish', 12);
  t.equal(l.page(RUN, 0, 100).length, 4, 'a finished log takes nothing more');
});

t.test('emitted counts raw output bytes per stream', async (t) => {
  const l = logs(t);
  t.strictSame(l.emitted(RUN), { stdout: 0, stderr: 0 }, 'unknown run');
  l.start(RUN);
  l.append(RUN, 'stdout', 'abc', 3);
  l.append(RUN, 'stderr', '€', 3);
  l.append(RUN, 'stdout', 'de', 2);
  l.append(RUN, 'status', { status: 'running' });
  t.strictSame(l.emitted(RUN), { stdout: 5, stderr: 3 });
  const copy = l.emitted(RUN);
  copy.stdout = 99;
  t.equal(l.emitted(RUN).stdout, 5, 'a copy is returned');
  l.finish(RUN);
});

t.test('at the cap: one truncated event, later output dropped, status and end kept', async (t) => {
  const l = logs(t, 300);
  l.start(RUN);
  l.append(RUN, 'status', { status: 'running' });
  for (let i = 0; i < 10; i++) l.append(RUN, 'stdout', `line ${i}\n`, 7);
  l.append(RUN, 'stdout', 'x', 1);
  l.append(RUN, 'stderr', 'y', 1);
  l.append(RUN, 'status', { status: 'succeeded' });
  l.append(RUN, 'end', { status: 'succeeded' });
  l.finish(RUN);
  const events = l.page(RUN, 0, 1000);
  t.strictSame(events.map((e) => e.id), events.map((_, i) => i + 1), 'ids stay consecutive');
  const truncated = events.filter((e) => e.type === 'truncated');
  t.equal(truncated.length, 1, 'exactly one truncated event');
  t.strictSame(truncated[0]!.data, { max_bytes: 300 });
  const at = events.indexOf(truncated[0]!);
  t.ok(at > 1, 'some output was kept first');
  t.strictSame(events.slice(at + 1).map((e) => e.type), ['status', 'end'], 'only status and end after it');
  t.ok(events.filter((e) => e.type === 'stdout').length < 10, 'later output was dropped');
  t.notOk(events.some((e) => e.data === 'x' || e.data === 'y'), 'even output small enough to fit');
  const lines = readFileSync(l.path(RUN), 'utf8').split('\n');
  const keptBytes = Buffer.byteLength(lines.slice(0, at).map((line) => `${line}\n`).join(''));
  t.ok(keptBytes <= 300, `what came before the marker is within the cap (${keptBytes} bytes)`);
});

t.test('isTruncated and emitted while truncated: dropped output is not counted', async (t) => {
  const l = logs(t, 200);
  l.start(RUN);
  t.equal(l.isTruncated(RUN), false);
  for (let i = 0; i < 5; i++) l.append(RUN, 'stdout', 'x'.repeat(40), 40);
  t.equal(l.isTruncated(RUN), true);
  // Each line is the same length here (one-digit ids, fixed-width times): so many fit.
  const lineBytes = Buffer.byteLength(`${JSON.stringify({ id: 1, time: new Date().toISOString(), type: 'stdout', data: 'x'.repeat(40), bytes: 40 })}\n`);
  const fit = Math.floor(200 / lineBytes);
  t.ok(fit >= 1 && fit < 5, `${fit} of 5 fit`);
  t.equal(l.page(RUN, 0, 100).filter((e) => e.type === 'stdout').length, fit);
  t.strictSame(l.emitted(RUN), { stdout: 40 * fit, stderr: 0 }, 'counts what was logged, not what was dropped');
  l.finish(RUN);
});

t.test('after a restart the log continues: ids, emitted bytes and truncation', async (t) => {
  const dir = t.testdir();
  const first = logs(t, 400, dir);
  first.start(RUN);
  first.append(RUN, 'status', { status: 'running' });
  first.append(RUN, 'stdout', 'abc', 3);
  first.append(RUN, 'stderr', 'de', 2);
  first.finish(RUN); // stands in for the process dying: the file stays
  const second = logs(t, 400, dir);
  second.start(RUN);
  t.strictSame(second.emitted(RUN), { stdout: 3, stderr: 2 });
  t.equal(second.isTruncated(RUN), false);
  second.append(RUN, 'stdout', 'f', 1);
  t.strictSame(second.emitted(RUN), { stdout: 4, stderr: 2 });
  for (let i = 0; i < 10; i++) second.append(RUN, 'stdout', 'y'.repeat(30), 30);
  t.equal(second.isTruncated(RUN), true);
  second.finish(RUN);
  const third = logs(t, 400, dir);
  third.start(RUN);
  t.equal(third.isTruncated(RUN), true, 'truncation survives the restart');
  third.append(RUN, 'stdout', 'z', 1);
  third.append(RUN, 'end', { status: 'succeeded' });
  third.finish(RUN);
  const events = third.page(RUN, 0, 1000);
  t.strictSame(events.map((e) => e.id), events.map((_, i) => i + 1), 'ids continue across restarts');
  t.equal(events.filter((e) => e.type === 'truncated').length, 1);
  t.equal(events.at(-1)!.type, 'end');
  t.notOk(events.some((e) => e.data === 'z'));
});

t.test('a line cut short by a crash is skipped, and the next event is still readable', async (t) => {
  const dir = t.testdir();
  const first = logs(t, 4096, dir);
  first.start(RUN);
  first.append(RUN, 'stdout', 'kept', 4);
  first.finish(RUN);
  appendFileSync(first.path(RUN), '{"id":2,"time":"2026-01-01T00:00:00.000Z","type":"stdout","da');
  const second = logs(t, 4096, dir);
  second.start(RUN);
  t.strictSame(second.emitted(RUN), { stdout: 4, stderr: 0 });
  second.append(RUN, 'end', { status: 'failed' });
  second.finish(RUN);
  t.strictSame(shape(second.page(RUN, 0, 100)), [
    [1, 'stdout', 'kept'],
    [2, 'end', { status: 'failed' }],
  ]);
});

t.test('page returns what is there after an id, up to a limit', async (t) => {
  const l = logs(t);
  t.strictSame(l.page(RUN, 0, 10), [], 'no file');
  l.start(RUN);
  for (let i = 1; i <= 5; i++) l.append(RUN, 'stdout', `${i}`, 1);
  t.strictSame(l.page(RUN, 0, 10).map((e) => e.data), ['1', '2', '3', '4', '5']);
  t.strictSame(l.page(RUN, 2, 2).map((e) => e.id), [3, 4]);
  t.strictSame(l.page(RUN, 5, 10), []);
  l.remove(RUN);
  t.strictSame(l.page(RUN, 0, 10), [], 'removed');
});

t.test('read tails a live log, ends at end, and resumes after an id', async (t) => {
  const l = logs(t);
  l.start(RUN);
  l.append(RUN, 'status', { status: 'running' });
  const reading = within(collect(l.read(RUN, 0)));
  await new Promise((resolve) => setTimeout(resolve, 20));
  l.append(RUN, 'stdout', 'later', 5);
  await new Promise((resolve) => setImmediate(resolve));
  l.append(RUN, 'stderr', 'later still', 11);
  l.append(RUN, 'end', { status: 'failed' });
  l.append(RUN, 'status', { status: 'after end' });
  t.strictSame(shape(await reading), [
    [1, 'status', { status: 'running' }],
    [2, 'stdout', 'later'],
    [3, 'stderr', 'later still'],
    [4, 'end', { status: 'failed' }],
  ]);
  t.strictSame((await within(collect(l.read(RUN, 2)))).map((e) => e.id), [3, 4], 'after id 2');
  l.finish(RUN);
  t.strictSame((await within(collect(l.read(RUN, 0)))).length, 4, 'a finished log reads to its end');
});

t.test('read of a finished log without end stops at the end of the file; unknown runs give nothing', async (t) => {
  const l = logs(t);
  l.start(RUN);
  l.append(RUN, 'stdout', 'a', 1);
  l.finish(RUN);
  t.strictSame((await within(collect(l.read(RUN, 0)))).map((e) => e.data), ['a']);
  t.strictSame(await within(collect(l.read('no-such-run', 0))), []);
});

t.test('read stops when its signal aborts, while waiting or before it starts', async (t) => {
  const l = logs(t);
  l.start(RUN);
  l.append(RUN, 'stdout', 'one', 3);
  const controller = new AbortController();
  const seen: StoredLogEvent[] = [];
  const reading = within(
    (async () => {
      for await (const event of l.read(RUN, 0, controller.signal)) seen.push(event);
    })(),
  );
  await new Promise((resolve) => setTimeout(resolve, 20));
  controller.abort();
  await reading;
  t.strictSame(seen.map((e) => e.data), ['one']);
  t.strictSame(await within(collect(l.read(RUN, 0, AbortSignal.abort()))), []);
  l.finish(RUN);
});

t.test('read keeps multi-byte characters intact across its read chunks', async (t) => {
  const l = logs(t, 16 * 1024 * 1024);
  l.start(RUN);
  // 3-byte characters from an odd offset: some character straddles each 64 KiB chunk edge.
  const text = `a${'€'.repeat(50_000)}`;
  l.append(RUN, 'stdout', text, Buffer.byteLength(text));
  l.append(RUN, 'end', { status: 'succeeded' });
  l.finish(RUN);
  t.equal(l.page(RUN, 0, 10)[0]!.data, text, 'page reads it whole');
  const events = await within(collect(l.read(RUN, 0)));
  t.equal(events.length, 2);
  t.ok(events[0]!.data === text, 'read gives the same text, no U+FFFD');
});

/** A RunLogs whose reads are counted, byte for byte. */
function countingLogs(t: { testdir(): string }, dir = t.testdir()): { logs: RunLogs; bytesRead: () => number; reset: () => void } {
  let bytes = 0;
  const logs = new RunLogs(dir, 64 * 1024 * 1024, (fd, buffer, position) => {
    const read = readSync(fd, buffer, 0, buffer.length, position);
    bytes += read;
    return read;
  });
  return { logs, bytesRead: () => bytes, reset: () => (bytes = 0) };
}

function writeLongLog(l: RunLogs, events: number): void {
  l.start(RUN);
  for (let i = 1; i <= events; i++) l.append(RUN, 'stdout', `line ${i} ${'x'.repeat(80)}\n`, 90);
  l.append(RUN, 'end', { status: 'succeeded' });
  l.finish(RUN);
}

t.test('a page of a long log reads about what the page holds, not the whole log', async (t) => {
  const { logs: l, bytesRead, reset } = countingLogs(t);
  writeLongLog(l, 20_000);
  const logBytes = statSync(l.path(RUN)).size;
  t.ok(logBytes > 2_000_000, 'a log of megabytes');
  reset();
  const page = l.page(RUN, 15_000, 10);
  t.strictSame(page.map((e) => e.id), [15_001, 15_002, 15_003, 15_004, 15_005, 15_006, 15_007, 15_008, 15_009, 15_010]);
  t.ok(bytesRead() > 0 && bytesRead() <= 16 * 1024 + 16 * 20, `read ${bytesRead()} bytes of ${logBytes}: one chunk and an index search`);
  reset();
  t.strictSame(l.page(RUN, 19_995, 100).map((e) => e.id), [19_996, 19_997, 19_998, 19_999, 20_000, 20_001], 'the last page ends with the end event');
  t.ok(bytesRead() <= 2 * 16 * 1024 + 16 * 20, 'so does the last page');
  reset();
  t.strictSame(l.page(RUN, 0, 3).map((e) => e.id), [1, 2, 3]);
  t.ok(bytesRead() > 0 && bytesRead() <= 16 * 1024 + 16 * 20, 'and the first');
});

t.test('resuming a stream after an event id seeks through the index too', async (t) => {
  const { logs: l, bytesRead, reset } = countingLogs(t);
  writeLongLog(l, 20_000);
  reset();
  const reader = l.read(RUN, 18_000);
  const first = await reader.next();
  await reader.return(undefined);
  t.equal((first.value as StoredLogEvent).id, 18_001);
  t.ok(bytesRead() > 0 && bytesRead() <= 64 * 1024 + 16 * 20, `read ${bytesRead()} bytes before the first event`);
});

t.test('the index is rebuilt from the log when a run is continued, and a log without one still pages', async (t) => {
  const dir = t.testdir();
  const first = new RunLogs(dir, 64 * 1024 * 1024);
  first.start(RUN);
  for (let i = 1; i <= 300; i++) first.append(RUN, 'stdout', `${i}\n`, 2);
  rmSync(first.indexPath(RUN)); // a crash, or a log from before indexes
  t.strictSame(first.page(RUN, 250, 2).map((e) => e.data), ['251\n', '252\n'], 'read from the start without an index');
  const { logs: second, bytesRead, reset } = countingLogs(t, dir);
  second.start(RUN);
  t.equal(statSync(second.indexPath(RUN)).size, 16 * Math.ceil(300 / INDEX_EVERY), 'one entry per INDEX_EVERY events');
  second.append(RUN, 'stdout', '301\n', 4);
  reset();
  t.strictSame(second.page(RUN, 299, 5).map((e) => e.data), ['300\n', '301\n']);
  t.ok(bytesRead() < 16 * 1024, 'from the indexed offset');
  second.remove(RUN);
  t.notOk(existsSync(second.indexPath(RUN)), 'removing a log removes its index');
});
