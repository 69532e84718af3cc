/**
 * The resumability store of one MCP session: every message the transport sends on an
 * SSE stream is kept here under an event id, so a client whose connection dropped can
 * reconnect with `Last-Event-ID` and receive what it missed (the run went on meanwhile).
 *
 * Bounded in messages and in bytes: the oldest events go first. The newest event is
 * always kept, even alone over the byte bound, because it is usually the call's result
 * (whose size the output cap already limits). The store lives and dies with its session.
 */
import type { EventId, EventStore, StreamId } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

interface StoredEvent {
  streamId: StreamId;
  seq: number;
  message: JSONRPCMessage;
  bytes: number;
}

// `<streamId>_<seq>`: stream ids are UUIDs or the SDK's `_GET_stream`, so the last `_` splits.
const EVENT_ID = /^(.+)_(\d{1,15})$/;

export class BoundedEventStore implements EventStore {
  private seq = 0;
  /** Insertion order is sequence order, which replay and eviction rely on. */
  private readonly events = new Map<EventId, StoredEvent>();
  /** How many retained events each stream has: a stream with none cannot be resumed. */
  private readonly perStream = new Map<StreamId, number>();
  private bytes = 0;

  constructor(
    private readonly maxEvents: number,
    private readonly maxBytes: number,
  ) {}

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    const seq = ++this.seq;
    const eventId = `${streamId}_${seq}`;
    // The SDK stores `{}` as the priming event of a stream: it is never replayed.
    const bytes = 'jsonrpc' in message ? Buffer.byteLength(JSON.stringify(message)) : 0;
    this.events.set(eventId, { streamId, seq, message, bytes });
    this.perStream.set(streamId, (this.perStream.get(streamId) ?? 0) + 1);
    this.bytes += bytes;
    this.evict();
    return eventId;
  }

  async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    const parsed = EVENT_ID.exec(eventId);
    // An id of a stream we no longer hold anything of (or never issued) cannot be resumed.
    return parsed && this.perStream.has(parsed[1]!) ? parsed[1] : undefined;
  }

  async replayEventsAfter(lastEventId: EventId, { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> }): Promise<StreamId> {
    const parsed = EVENT_ID.exec(lastEventId);
    if (!parsed) throw new Error('malformed Last-Event-ID');
    const streamId = parsed[1]!;
    const after = Number(parsed[2]);
    // Iterating the live map on purpose: events stored while we await `send` are
    // replayed too, and the transport skips them when it writes live afterwards.
    for (const [eventId, event] of this.events) {
      if (event.streamId === streamId && event.seq > after && 'jsonrpc' in event.message) await send(eventId, event.message);
    }
    return streamId;
  }

  get size(): number {
    return this.events.size;
  }

  get byteSize(): number {
    return this.bytes;
  }

  private evict(): void {
    while (this.events.size > 1 && (this.events.size > this.maxEvents || this.bytes > this.maxBytes)) {
      const [eventId, oldest] = this.events.entries().next().value as [EventId, StoredEvent];
      this.events.delete(eventId);
      this.bytes -= oldest.bytes;
      const left = (this.perStream.get(oldest.streamId) ?? 1) - 1;
      if (left === 0) this.perStream.delete(oldest.streamId);
      else this.perStream.set(oldest.streamId, left);
    }
  }
}
