import t from 'tap';
import { RunQueue } from '../../lib/run-queue.js';

/** A task that records when it starts and ends only when released. */
class Tasks {
  readonly started: string[] = [];
  private readonly release = new Map<string, (value: string) => void>();
  running = 0;
  maxRunning = 0;

  task(name: string): () => Promise<string> {
    return () => {
      this.started.push(name);
      this.running += 1;
      this.maxRunning = Math.max(this.maxRunning, this.running);
      return new Promise<string>((resolve) => this.release.set(name, resolve)).finally(() => (this.running -= 1));
    };
  }

  finish(name: string): void {
    const resolve = this.release.get(name);
    if (!resolve) throw new Error(`${name} has not started`);
    resolve(`${name} done`);
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

t.test('at most maxConcurrent run; the rest wait and start as slots free', async (t) => {
  const q = new RunQueue(2, 10, 5);
  const tasks = new Tasks();
  const results = ['a', 'b', 'c', 'd'].map((name) => q.run(tasks.task(name)));
  await tick();
  t.strictSame(tasks.started, ['a', 'b']);
  t.strictSame(q.stats, { running: 2, queued: 2 });
  tasks.finish('b');
  t.equal(await results[1], 'b done');
  await tick();
  t.strictSame(tasks.started, ['a', 'b', 'c']);
  t.strictSame(q.stats, { running: 2, queued: 1 });
  tasks.finish('a');
  tasks.finish('c');
  await tick();
  tasks.finish('d');
  t.strictSame(await Promise.all(results), ['a done', 'b done', 'c done', 'd done']);
  t.equal(tasks.maxRunning, 2);
  t.strictSame(q.stats, { running: 0, queued: 0 });
});

t.test('waiting runs start in arrival order', async (t) => {
  const q = new RunQueue(1, 10, 5);
  const tasks = new Tasks();
  const names = ['1', '2', '3', '4', '5', '6'];
  const results = names.map((name) => q.run(tasks.task(name)));
  for (const name of names) {
    await tick();
    tasks.finish(name);
  }
  await Promise.all(results);
  t.strictSame(tasks.started, names);
  t.equal(tasks.maxRunning, 1);
});

t.test('admit refuses with 429 and Retry-After once slots and queue are full', async (t) => {
  const q = new RunQueue(1, 2, 7);
  const tasks = new Tasks();
  const results: Promise<string>[] = [];
  for (const name of ['a', 'b', 'c']) {
    q.admit();
    results.push(q.run(tasks.task(name)));
  }
  t.strictSame(q.stats, { running: 1, queued: 2 });
  t.throws(() => q.admit(), { code: 'SLIPWAY_ERR_RATE_LIMITED', statusCode: 429, retryAfterSeconds: 7, message: /1 runs are executing and 2 are queued/ });
  await tick();
  tasks.finish('a');
  await results[0];
  t.doesNotThrow(() => q.admit(), 'a queue place is free again');
  for (const name of ['b', 'c']) {
    await tick();
    tasks.finish(name);
  }
  await Promise.all(results);
});

t.test('with no queue, admit refuses as soon as every slot is taken', async (t) => {
  const q = new RunQueue(2, 0, 1);
  const tasks = new Tasks();
  q.admit();
  const a = q.run(tasks.task('a'));
  q.admit();
  const b = q.run(tasks.task('b'));
  t.throws(() => q.admit(), { code: 'SLIPWAY_ERR_RATE_LIMITED', retryAfterSeconds: 1 });
  await tick();
  tasks.finish('a');
  tasks.finish('b');
  await Promise.all([a, b]);
  t.doesNotThrow(() => q.admit());
});

t.test('a finished run hands its slot to the next waiting one; a newcomer cannot take it', async (t) => {
  const q = new RunQueue(1, 10, 5);
  const tasks = new Tasks();
  const a = q.run(tasks.task('a'));
  const b = q.run(tasks.task('b'));
  await tick();
  tasks.finish('a');
  await a;
  // b has been given the slot but may not have started yet: c must still wait.
  const c = q.run(tasks.task('c'));
  t.strictSame(q.stats, { running: 1, queued: 1 });
  await tick();
  t.strictSame(tasks.started, ['a', 'b']);
  tasks.finish('b');
  await b;
  await tick();
  tasks.finish('c');
  await c;
  t.strictSame(tasks.started, ['a', 'b', 'c']);
  t.equal(tasks.maxRunning, 1);
});

t.test('a failing task frees its slot and its error reaches the caller', async (t) => {
  const q = new RunQueue(1, 10, 5);
  const tasks = new Tasks();
  const failing = q.run(async () => {
    throw new Error('engine exploded');
  });
  const next = q.run(tasks.task('next'));
  await t.rejects(failing, { message: 'engine exploded' });
  await tick();
  t.strictSame(tasks.started, ['next']);
  tasks.finish('next');
  await next;
  t.strictSame(q.stats, { running: 0, queued: 0 });
});

t.test('aborted while queued: the task never starts and its place is given up', async (t) => {
  const q = new RunQueue(1, 10, 5);
  const tasks = new Tasks();
  const a = q.run(tasks.task('a'));
  const controller = new AbortController();
  const b = q.run(tasks.task('b'), controller.signal);
  const c = q.run(tasks.task('c'));
  t.strictSame(q.stats, { running: 1, queued: 2 });
  const reason = new Error('cancelled by caller');
  controller.abort(reason);
  await t.rejects(b, reason);
  t.strictSame(q.stats, { running: 1, queued: 1 });
  tasks.finish('a');
  await a;
  await tick();
  tasks.finish('c');
  await c;
  t.strictSame(tasks.started, ['a', 'c'], 'b never ran');
  t.strictSame(q.stats, { running: 0, queued: 0 });
});

t.test('aborting after the task started does not remove it or change the counts', async (t) => {
  const q = new RunQueue(1, 10, 5);
  const tasks = new Tasks();
  const controller = new AbortController();
  const a = q.run(tasks.task('a'), controller.signal);
  await tick();
  controller.abort(new Error('late'));
  t.strictSame(q.stats, { running: 1, queued: 0 });
  tasks.finish('a');
  t.equal(await a, 'a done', 'the queue leaves stopping a started task to the task');
  t.strictSame(q.stats, { running: 0, queued: 0 });
});

t.test('a signal already aborted when the run must wait: the task never starts', async (t) => {
  const q = new RunQueue(1, 10, 5);
  const tasks = new Tasks();
  const a = q.run(tasks.task('a'));
  const reason = new Error('gone before it queued');
  const b = q.run(tasks.task('b'), AbortSignal.abort(reason));
  b.catch(() => {});
  await tick();
  tasks.finish('a');
  await a;
  await tick();
  t.strictSame(tasks.started, ['a'], 'b did not run');
  t.strictSame(q.stats, { running: 0, queued: 0 });
  if (tasks.started.includes('b')) tasks.finish('b');
});

t.test('hold: a run already executing takes a slot without waiting for one', async (t) => {
  const queue = new RunQueue(1, 0, 3);
  let finish!: () => void;
  const held = queue.hold(() => new Promise<void>((resolve) => (finish = resolve)));
  t.same(queue.stats, { running: 1, queued: 0 });
  t.throws(() => queue.admit(), { code: 'SLIPWAY_ERR_RATE_LIMITED' }, 'no room for a new run while it holds the slot');
  finish();
  await held;
  t.same(queue.stats, { running: 0, queued: 0 });
  t.doesNotThrow(() => queue.admit(), 'the slot is free again');
});

t.test('a freed slot goes to the next owner in turn, not to the flood queued first', async (t) => {
  const q = new RunQueue(2, 20, 5, { running: 2 });
  const tasks = new Tasks();
  const flood = ['a1', 'a2', 'a3', 'a4'].map((name) => q.run(tasks.task(name), undefined, { owner: 'a' }));
  const b = q.run(tasks.task('b1'), undefined, { owner: 'b' });
  const c = q.run(tasks.task('c1'), undefined, { owner: 'c' });
  await tick();
  t.strictSame(tasks.started, ['a1', 'a2']);
  tasks.finish('a1');
  await tick();
  t.strictSame(tasks.started, ['a1', 'a2', 'a3'], 'a is first in line; its turn then passes to b and c');
  tasks.finish('a2');
  await tick();
  t.strictSame(tasks.started, ['a1', 'a2', 'a3', 'b1'], 'b before the rest of a\'s flood');
  tasks.finish('a3');
  await tick();
  t.strictSame(tasks.started, ['a1', 'a2', 'a3', 'b1', 'c1'], 'then c');
  tasks.finish('b1');
  await tick();
  t.strictSame(tasks.started.at(-1), 'a4', 'and a again');
  tasks.finish('c1');
  tasks.finish('a4');
  await Promise.all([...flood, b, c]);
  t.strictSame(q.stats, { running: 0, queued: 0 });
});

t.test('one owner executes at most its share, so another owner always finds a slot', async (t) => {
  const q = new RunQueue(3, 20, 5); // the share defaults to maxConcurrent - 1
  const tasks = new Tasks();
  const flood = ['a1', 'a2', 'a3', 'a4'].map((name) => {
    q.admit({ owner: 'a' });
    return q.run(tasks.task(name), undefined, { owner: 'a' });
  });
  await tick();
  t.strictSame(tasks.started, ['a1', 'a2'], 'a holds two of three slots, however many it queues');
  t.strictSame(q.ownerStats('a'), { running: 2, queued: 2 });
  q.admit({ owner: 'b' });
  const b = q.run(tasks.task('b1'), undefined, { owner: 'b' });
  await tick();
  t.strictSame(tasks.started, ['a1', 'a2', 'b1'], 'b starts at once while a\'s runs go on');
  tasks.finish('b1');
  t.equal(await b, 'b1 done');
  await tick();
  t.strictSame(tasks.started, ['a1', 'a2', 'b1'], 'the slot b gave back is not a\'s to take');
  for (const name of ['a1', 'a2']) tasks.finish(name);
  await tick();
  for (const name of ['a3', 'a4']) tasks.finish(name);
  await Promise.all(flood);
});

t.test('an owner\'s policy cap below its share is honoured; above it, the share wins', async (t) => {
  const q = new RunQueue(4, 20, 5, { running: 2 });
  const tasks = new Tasks();
  const low = ['l1', 'l2'].map((name) => q.run(tasks.task(name), undefined, { owner: 'low', maxRunning: 1 }));
  const high = ['h1', 'h2', 'h3'].map((name) => q.run(tasks.task(name), undefined, { owner: 'high', maxRunning: 10 }));
  await tick();
  t.strictSame(tasks.started, ['l1', 'h1', 'h2']);
  t.strictSame(q.stats, { running: 3, queued: 2 });
  for (const name of ['l1', 'h1']) tasks.finish(name);
  await tick();
  t.strictSame(tasks.started.slice(3).sort(), ['h3', 'l2']);
  for (const name of ['h2', 'h3', 'l2']) tasks.finish(name);
  await Promise.all([...low, ...high]);
});

t.test('one owner\'s queue is bounded: 429 with Retry-After for it, while another owner still queues', async (t) => {
  const q = new RunQueue(2, 20, 9, { running: 1, queued: 2 });
  const tasks = new Tasks();
  const flood: Promise<string>[] = [];
  for (const name of ['a1', 'a2', 'a3']) {
    q.admit({ owner: 'a' });
    flood.push(q.run(tasks.task(name), undefined, { owner: 'a' }));
  }
  t.throws(() => q.admit({ owner: 'a' }), { code: 'SLIPWAY_ERR_RATE_LIMITED', statusCode: 429, retryAfterSeconds: 9, message: /1 runs executing and 2 queued/ });
  t.doesNotThrow(() => q.admit({ owner: 'b' }), 'b is not held to a\'s queue');
  const b = q.run(tasks.task('b1'), undefined, { owner: 'b' });
  await tick();
  t.strictSame(tasks.started, ['a1', 'b1']);
  for (const name of ['a1', 'b1']) tasks.finish(name);
  await tick();
  tasks.finish('a2');
  await tick();
  tasks.finish('a3');
  await Promise.all([...flood, b]);
  t.strictSame(q.stats, { running: 0, queued: 0 });
});
