/**
 * MCP sessions (stateful streamable HTTP): each has its own transport, its own
 * `Server`, its own bounded event store and logging level, under a cryptographically
 * random `Mcp-Session-Id`.
 *
 * Memory must not grow with sessions that clients open and then drop without a
 * DELETE, so a session that has had no open request and no tool call under way for
 * the idle timeout is closed and forgotten, with everything it held. A session with a
 * call under way is never idle: its client may have dropped the connection and mean to
 * resume, and closing the session would cancel the run.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import { BoundedEventStore } from './event-store.js';
import { pollingTransportOptions, type SsePollingSettings } from './sse-polling.js';
import type { SessionState } from './mcp-server.js';

export interface SessionSettings {
  idleMs: number;
  maxSessions: number;
  eventStoreMaxEvents: number;
  eventStoreMaxBytes: number;
  ssePolling: SsePollingSettings;
}

export type ServerFactory = (session: SessionState) => Server;

export class McpSession implements SessionState {
  logLevel: LoggingLevel | undefined;
  /** The token name that opened the session (null on an open server); set on its first request. */
  owner: string | null | undefined;
  readonly events: BoundedEventStore;
  readonly transport: StreamableHTTPServerTransport;
  readonly server: Server;
  private lastSeen = Date.now();
  private openRequests = 0;
  private activeCalls = 0;

  constructor(settings: SessionSettings, createServer: ServerFactory, onInitialized: (session: McpSession) => void, onClosed: (session: McpSession) => void) {
    this.events = new BoundedEventStore(settings.eventStoreMaxEvents, settings.eventStoreMaxBytes);
    this.transport = new StreamableHTTPServerTransport({
      // randomUUID draws from the CSPRNG: 122 random bits, not guessable.
      sessionIdGenerator: () => randomUUID(),
      eventStore: this.events,
      onsessioninitialized: () => onInitialized(this),
      ...pollingTransportOptions(settings.ssePolling),
    });
    this.server = createServer(this);
    // Fires however the session ends: DELETE, idle expiry, gateway shutdown.
    this.server.onclose = () => onClosed(this);
  }

  get id(): string | undefined {
    return this.transport.sessionId;
  }

  /** Counts an HTTP request (a POST, or a GET stream) as open until its response closes. */
  track(res: ServerResponse): void {
    this.openRequests++;
    this.lastSeen = Date.now();
    res.once('close', () => {
      this.openRequests--;
      this.lastSeen = Date.now();
    });
  }

  beginCall(): () => void {
    this.activeCalls++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.activeCalls--;
      this.lastSeen = Date.now();
    };
  }

  isIdle(now: number, idleMs: number): boolean {
    return this.openRequests === 0 && this.activeCalls === 0 && now - this.lastSeen >= idleMs;
  }

  /** Closes the transport (ending its streams) and the server (aborting its calls). */
  async close(): Promise<void> {
    await this.server.close();
  }
}

export class McpSessions {
  private readonly sessions = new Map<string, McpSession>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly settings: SessionSettings,
    private readonly createServer: ServerFactory,
    private readonly log: FastifyBaseLogger,
  ) {
    const every = Math.min(Math.max(settings.idleMs / 4, 100), 60_000);
    this.sweeper = setInterval(() => this.sweep(), every);
    // The sweep must never keep the process alive on its own.
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  get(id: string): McpSession | undefined {
    return this.sessions.get(id);
  }

  /** Whether another session may be opened (expired ones are swept first). */
  hasRoom(): boolean {
    this.sweep();
    return this.sessions.size < this.settings.maxSessions;
  }

  /** A session for an initialize request; it is registered once the transport gives it an id. */
  async open(): Promise<McpSession> {
    const session = new McpSession(
      this.settings,
      this.createServer,
      (s) => {
        this.sessions.set(s.id!, s);
        this.log.info({ session: s.id, sessions: this.sessions.size }, 'MCP session opened');
      },
      (s) => {
        if (s.id !== undefined && this.sessions.delete(s.id)) this.log.info({ session: s.id, sessions: this.sessions.size }, 'MCP session closed');
      },
    );
    session.server.onerror = (err) => this.log.debug({ err: err.message }, 'MCP transport');
    await session.server.connect(session.transport);
    return session;
  }

  /** Closes sessions idle for longer than the timeout; returns how many. */
  sweep(now = Date.now()): number {
    let closed = 0;
    for (const session of this.sessions.values()) {
      if (!session.isIdle(now, this.settings.idleMs)) continue;
      closed++;
      this.log.info({ session: session.id }, 'MCP session expired');
      void session.close().catch((err) => this.log.warn({ err, session: session.id }, 'closing an expired MCP session failed'));
    }
    return closed;
  }

  /** At shutdown: ends every stream (so the HTTP server can close) and aborts every call. */
  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.sessions.values()].map((s) => s.close()));
    this.sessions.clear();
  }
}
