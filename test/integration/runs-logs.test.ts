// GET /v1/runs/{id}/logs: SSE contents in order, live and replayed, resumed with
// Last-Event-ID, heartbeats, plain text; a stalled reader is cut off and the run goes on.
import t from 'tap';
import { request as httpRequest } from 'node:http';
import { startGateway } from '../fixtures/gateway.js';
import { readSse } from '../fixtures/sse.js';
import { pollUntilFinal } from '../fixtures/runs.js';
import { BUSYBOX_IMAGE } from '../fixtures/images.js';

const gw = await startGateway({ SLIPWAY_SSE_HEARTBEAT_SECONDS: '1', SLIPWAY_SSE_STALL_SECONDS: '2' });
t.teardown(() => gw.close());

const SCRIPT = 'for i in 1 2 3; do echo "out $i"; sleep 0.5; done; echo "warn" >&2; exit 3';

t.test('a live stream carries status, output and the end, in order, with increasing ids', async (t) => {
  const start = await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['sh', '-c', SCRIPT], wait: false });
  const events = await readSse(`${gw.url}/v1/runs/${start.body.run_id}/logs`);
  t.same(events.map((e) => e.id), events.map((_, i) => i + 1), 'ids 1, 2, 3, ... without gaps');
  t.same(
    events.map((e) => e.event),
    ['status', 'status', 'stdout', 'stdout', 'stdout', 'stderr', 'end'],
  );
  t.match(events[0]!.data, { type: 'status', data: { status: 'queued' } });
  t.match(events[1]!.data, { data: { status: 'running', container_id: /^[0-9a-f]{64}$/ } });
  t.same(events.filter((e) => e.event === 'stdout').map((e) => e.data.data), ['out 1\n', 'out 2\n', 'out 3\n']);
  t.match(events.at(-1)!.data, { type: 'end', data: { status: 'failed', exit_code: 3 } });

  const replay = await readSse(`${gw.url}/v1/runs/${start.body.run_id}/logs`);
  t.same(replay.map((e) => [e.id, e.event]), events.map((e) => [e.id, e.event]), 'a finished run replays the same events');

  const resumed = await readSse(`${gw.url}/v1/runs/${start.body.run_id}/logs`, { 'last-event-id': '3' });
  t.same(resumed.map((e) => e.id), [4, 5, 6, 7], 'Last-Event-ID yields exactly the events after it');
  const viaQuery = await readSse(`${gw.url}/v1/runs/${start.body.run_id}/logs?last_event_id=6`);
  t.same(viaQuery.map((e) => e.id), [7]);

  const text = await fetch(`${gw.url}/v1/runs/${start.body.run_id}/logs?format=text`);
  t.match(text.headers.get('content-type'), /text\/plain/);
  t.equal(await text.text(), 'out 1\nout 2\nout 3\nwarn\n');
});

t.test('a reader that joins mid-run and resumes after a drop misses nothing', async (t) => {
  const start = await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'for i in 1 2 3 4 5 6; do echo "n $i"; sleep 0.4; done'], wait: false });
  const url = `${gw.url}/v1/runs/${start.body.run_id}/logs`;
  // Read the first few events, then drop the connection.
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  const reader = res.body!.getReader();
  let seen = '';
  while (!/id: 4\n/.test(seen)) seen += new TextDecoder().decode((await reader.read()).value);
  controller.abort();
  const lastId = Math.max(...[...seen.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1])));
  const rest = await readSse(url, { 'last-event-id': String(lastId) });
  t.equal(rest[0]!.id, lastId + 1, 'resumes right after the last event seen');
  t.equal(rest.at(-1)!.event, 'end');
  const all = await readSse(url);
  t.equal(all.filter((e) => e.event === 'stdout').length, 6, 'the dropped connection did not stop the run');
  t.match(all.at(-1)!.data.data, { status: 'succeeded' });
});

t.test('heartbeats keep an idle stream alive', async (t) => {
  const start = await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['sleep', '2.5'], wait: false });
  const text = await (await fetch(`${gw.url}/v1/runs/${start.body.run_id}/logs`)).text();
  t.match(text, /: heartbeat\n\n/);
});

t.test('a stalled reader is cut off while the run goes on, and resumes where it was cut', async (t) => {
  const start = await gw.request('POST', '/v1/containers/run', {
    image: BUSYBOX_IMAGE,
    // Far more log than socket buffers hold, so a reader that stops reading stalls the stream.
    command: ['sh', '-c', 'yes 0123456789012345678901234567890123456789 | head -c 60000000; echo; echo finished'],
    wait: false,
  });
  const received = await new Promise<string>((resolve, reject) => {
    const req = httpRequest(`${gw.url}/v1/runs/${start.body.run_id}/logs`, (res) => {
      const chunks: Buffer[] = [];
      res.pause(); // read nothing for longer than the gateway's stall limit (2 s)
      setTimeout(() => {
        res.on('data', (c: Buffer) => chunks.push(c));
        res.resume();
      }, 5000);
      const done = (): void => resolve(Buffer.concat(chunks).toString('utf8'));
      res.on('end', done);
      res.on('aborted', done);
      res.on('error', done);
    });
    req.on('error', reject);
    req.end();
  });
  t.notMatch(received, /event: end/, 'the stream was cut before the end');
  const final = await pollUntilFinal(gw, start.body.run_id);
  t.match(final, { status: 'succeeded', stdout_truncated: true, log_truncated: true }, 'the run finished regardless');
  const ids = [...received.matchAll(/^id: (\d+)\nevent: [a-z]+\ndata: .*\n\n/gm)].map((m) => Number(m[1]));
  const lastComplete = Math.max(0, ...ids);
  t.ok(lastComplete > 2, 'some events arrived before the cut');
  const rest = await readSse(`${gw.url}/v1/runs/${start.body.run_id}/logs`, { 'last-event-id': String(lastComplete) });
  t.equal(rest[0]!.id, lastComplete + 1, 'resumed right after the last complete event');
  t.equal(rest.at(-1)!.event, 'end', 'and reached the end');
  t.ok(rest.some((e) => e.event === 'truncated'), 'the log says where it reached its cap');
});

t.test('a plain-text log stream tells browsers not to sniff, so each line shows as it arrives', async (t) => {
  const start = await gw.request('POST', '/v1/containers/run', { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo first; sleep 2; echo second'], wait: false });
  const res = await fetch(`${gw.url}/v1/runs/${start.body.run_id}/logs?format=text`);
  t.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  t.equal(res.headers.get('x-content-type-options'), 'nosniff');
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  t.equal(first, 'first\n', 'the first line arrives on its own, before the run has more to say');
  let rest = '';
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
  t.equal(rest, 'second\n');
});
