import t from 'tap';
import type { ServerNotification } from '@modelcontextprotocol/sdk/types.js';
import type { RunEvent } from '../../../lib/run-events.js';
import { MAX_LOG_LINES, MAX_LINE_CHARS, RunNotifier, levelEnabled } from '../../../server/mcp/notifications.js';

/** An output event as the executor emits it (`bytes` is the raw length where the event has it). */
const out = (stream: 'stdout' | 'stderr', data: string) => ({ type: 'output', stream, data, bytes: Buffer.byteLength(data) }) as RunEvent;

function notifier(progressToken: string | undefined, level?: 'info' | 'warning') {
  const sent: ServerNotification[] = [];
  const n = new RunNotifier(async (m) => void sent.push(m), progressToken, () => level);
  const logs = () => sent.filter((m) => m.method === 'notifications/message').map((m) => m.params as { logger: string; data: unknown; level: string });
  const progress = () => sent.filter((m) => m.method === 'notifications/progress').map((m) => m.params as { progress: number; message: string });
  return { n, sent, logs, progress };
}

t.test('output is split into lines across chunks; the last partial line goes at flush', async (t) => {
  const { n, logs } = notifier(undefined);
  n.onEvent(out('stdout', 'a\nb'));
  n.onEvent(out('stdout', 'c\r\nd'));
  n.onEvent(out('stderr', 'e\n'));
  await n.flush();
  t.same(logs().map((l) => `${l.logger}:${l.data}`), ['stdout:a', 'stdout:bc', 'stderr:e', 'stdout:d']);
});

t.test('no progress without a token; with one, it increases and status always goes', async (t) => {
  const none = notifier(undefined);
  none.n.onEvent({ type: 'status', status: 'running', container_id: 'c'.repeat(64) });
  await none.n.flush();
  t.same(none.progress(), []);
  const some = notifier('tok');
  some.n.onEvent({ type: 'status', status: 'pulling' });
  for (let i = 0; i < 100; i++) some.n.onEvent(out('stdout', `${i}\n`));
  some.n.onEvent({ type: 'status', status: 'running', container_id: 'c'.repeat(64) });
  await some.n.flush();
  const p = some.progress();
  t.ok(p.length >= 2 && p.length < 10, `throttled (${p.length})`);
  t.ok(p.every((x, i) => i === 0 || x.progress > p[i - 1]!.progress));
  t.ok(p.some((x) => x.message === 'status: running (container cccccccccccc)'));
  t.equal(p[p.length - 1]!.message, '100 lines of output so far', 'the final count is reported at flush');
});

t.test('log lines are capped per call and per line, and honour the level', async (t) => {
  const { n, logs } = notifier(undefined);
  n.onEvent(out('stdout', 'x\n'.repeat(MAX_LOG_LINES + 500)));
  n.onEvent(out('stdout', 'y'.repeat(MAX_LINE_CHARS * 2 + 5)));
  await n.flush();
  t.equal(logs().filter((l) => l.logger === 'stdout').length, MAX_LOG_LINES);
  t.match(logs().find((l) => l.level === 'warning')?.data, /more than 1000 output lines/);
  const quiet = notifier(undefined, 'warning');
  quiet.n.onEvent(out('stdout', 'x\n'));
  quiet.n.onEvent({ type: 'status', status: 'running' });
  await quiet.n.flush();
  t.same(quiet.logs(), []);
  t.ok(levelEnabled('error', 'warning') && !levelEnabled('debug', 'info') && levelEnabled('debug', undefined));
});
