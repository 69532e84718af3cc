import t from 'tap';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { BoundedEventStore } from '../../../server/mcp/event-store.js';

const note = (n: number, data = ''): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: `${n}${data}` } });

async function replay(store: BoundedEventStore, after: string) {
  const got: [string, JSONRPCMessage][] = [];
  const stream = await store.replayEventsAfter(after, { send: async (id, m) => void got.push([id, m]) });
  return { stream, got: got.map(([, m]) => (m as unknown as { params: { data: string } }).params.data) };
}

t.test('replays the events of one stream after the given id, priming events excluded', async (t) => {
  const store = new BoundedEventStore(100, 1 << 20);
  const priming = await store.storeEvent('s1', {} as JSONRPCMessage);
  const a1 = await store.storeEvent('s1', note(1));
  await store.storeEvent('_GET_stream', note(99));
  await store.storeEvent('s1', note(2));
  await store.storeEvent('s1', note(3));
  t.equal(await store.getStreamIdForEventId(a1), 's1');
  t.same(await replay(store, a1), { stream: 's1', got: ['2', '3'] });
  t.same((await replay(store, priming)).got, ['1', '2', '3']);
  t.equal(await store.getStreamIdForEventId('_GET_stream_3'), '_GET_stream', 'the SDK\'s standalone stream id has underscores');
});

t.test('unknown, forged or fully evicted streams cannot be resumed', async (t) => {
  const store = new BoundedEventStore(2, 1 << 20);
  const old = await store.storeEvent('old', note(1));
  await store.storeEvent('new', note(2));
  await store.storeEvent('new', note(3));
  t.equal(await store.getStreamIdForEventId(old), undefined, 'all of its events were evicted');
  t.equal(await store.getStreamIdForEventId('nope'), undefined);
  t.equal(await store.getStreamIdForEventId('other_1'), undefined);
});

t.test('bounded in events and in bytes, always keeping the newest', async (t) => {
  const store = new BoundedEventStore(3, 1 << 20);
  for (let i = 0; i < 10; i++) await store.storeEvent('s', note(i));
  t.equal(store.size, 3);
  const small = new BoundedEventStore(1000, 1000);
  for (let i = 0; i < 50; i++) await small.storeEvent('s', note(i, 'x'.repeat(100)));
  t.ok(small.byteSize <= 1000, `bytes kept: ${small.byteSize}`);
  const big = await small.storeEvent('s', note(0, 'y'.repeat(5000)));
  t.equal(small.size, 1, 'an event over the bound alone is still kept');
  t.equal(await small.getStreamIdForEventId(big), 's');
});
