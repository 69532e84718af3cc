// Following a Server-Sent Events stream with fetch instead of EventSource: EventSource
// cannot send an Authorization header, and the token must not go into the URL. The
// parser follows the WHATWG event-stream rules the gateway's stream needs (fields,
// comments, ids, retry); the follower reconnects after a dropped connection with
// Last-Event-ID, so the server resumes exactly after the last event shown.

/** Turns decoded text, in chunks of any size, into events `{ id, type, data }`. */
export class SseParser {
  constructor() {
    this.buffer = '';
    this.type = '';
    this.data = [];
    /** The last id seen, carried by every later event (as EventSource does). */
    this.lastId = undefined;
    /** The server's `retry:` in milliseconds, once it sent one. */
    this.retry = undefined;
  }

  push(text) {
    this.buffer += text;
    const events = [];
    for (;;) {
      const match = /\r\n|\n|\r/.exec(this.buffer);
      // A lone \r at the end may be the first half of \r\n: wait for the next chunk.
      if (!match || (match[0] === '\r' && match.index === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  line(line) {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined; // a comment: the server's heartbeat
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.type = value;
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    return undefined;
  }

  dispatch() {
    const event = this.data.length ? { id: this.lastId, type: this.type || 'message', data: this.data.join('\n') } : undefined;
    this.type = '';
    this.data = [];
    return event;
  }
}

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * Reads `url` as an event stream until an event of type `endType` arrives or `signal`
 * aborts, reconnecting after a dropped connection with the Last-Event-ID header.
 * `headers()` is asked on every (re)connection; `onState` hears `connecting`, `open`,
 * `reconnecting`, `ended` and `failed` (with the error: a refusal such as 404 is not retried).
 */
export async function followEventStream(url, { headers = () => ({}), onEvent, onState = () => {}, signal, endType = 'end', retryMs = 1000 }) {
  let lastId;
  let retry = retryMs;
  while (!signal.aborted) {
    try {
      onState('connecting');
      const res = await fetch(url, {
        headers: { accept: 'text/event-stream', ...headers(), ...(lastId !== undefined ? { 'last-event-id': lastId } : {}) },
        cache: 'no-store',
        signal,
      });
      if (!res.ok) {
        const body = await res.json().catch(() => undefined);
        const error = Object.assign(new Error(body?.error?.message ?? `HTTP ${res.status}`), { status: res.status });
        // Too many streams or an engine away may pass; anything else is the answer.
        if (res.status !== 429 && res.status < 500) return onState('failed', error);
        throw error;
      }
      onState('open');
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseParser();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const event of parser.push(value)) {
          if (event.id !== undefined) lastId = event.id;
          onEvent(event);
          if (event.type === endType) return onState('ended');
        }
        if (parser.retry !== undefined) retry = parser.retry;
      }
    } catch (err) {
      if (signal.aborted) return undefined;
      onState('reconnecting', err);
      await sleep(retry, signal);
      continue;
    }
    // The server closed the stream before the end (it restarted, or cut a slow reader off).
    onState('reconnecting');
    await sleep(retry, signal);
  }
  return undefined;
}
