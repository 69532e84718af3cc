/**
 * MCP sessions (stateful streamable HTTP): each has its own transport, its own
 * `Server`, its own bounded event store and logging level, under a cryptographically
 * random `Mcp-Session-Id`.
 *
 * Memory must not grow with sessions that clients open and then drop without a
 * DELETE, so a session that has had no request and no tool call under way for the
 * idle timeout is closed and forgotten, with everything it held, its open streams
 * included: an open GET stream is not activity, or one caller could hold sessions
 * forever by leaving streams open. A session with a call under way is not idle: its
 * client may have dropped the connection and mean to resume, and closing the session
 * would cancel the run. Every session ends at its maximum lifetime regardless.
 *
 * The session table is shared, so each token may hold only a few of its places (an
 * open server has one caller, bounded by the table's size alone).
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
  /** A session ends this long after it opened, however busy. */
  maxLifetimeMs: number;
  maxSessions: number;
  /** Sessions one caller may hold at once. */
  maxSessionsPerCaller: number;
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
  private readonly openedAt = Date.now();
  private lastSeen = Date.now();
  private openRequests = 0;
  private activeCalls = 0;

  constructor(
    /** The token whose place in the session table this is; null on an open server. */
    readonly callerKey: string | null,
    settings: SessionSettings,
    createServer: ServerFactory,
    onInitialized: (session: McpSession) => void,
    onClosed: (session: McpSession) => void,
  ) {
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

  /**
   * Counts a request as activity: a POST or DELETE until its response ends, a GET
   * stream only when it arrives (a stream staying open afterwards is not use).
   */
  track(res: ServerResponse, isStream: boolean): void {
    this.lastSeen = Date.now();
    if (isStream) return;
    this.openRequests++;
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

  isExpired(now: number, settings: SessionSettings): boolean {
    if (now - this.openedAt >= settings.maxLifetimeMs) return true;
    return this.openRequests === 0 && this.activeCalls === 0 && now - this.lastSeen >= settings.idleMs;
  }

  /** Closes the transport (ending its streams) and the server (aborting its calls). */
  async close(): Promise<void> {
    await this.server.close();
  }
}

export type RoomVerdict = 'ok' | 'server_full' | 'caller_full';

export class McpSessions {
  private readonly sessions = new Map<string, McpSession>();
  /** Every session not yet closed, with an id or still initializing: what the caps count. */
  private readonly live = new Set<McpSession>();
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

  /** Whether `callerKey` may open another session (expired ones are swept first). */
  hasRoom(callerKey: string | null): RoomVerdict {
    this.sweep();
    if (this.live.size >= this.settings.maxSessions) return 'server_full';
    if (callerKey === null) return 'ok';
    let held = 0;
    for (const session of this.live) if (session.callerKey === callerKey) held++;
    return held >= this.settings.maxSessionsPerCaller ? 'caller_full' : 'ok';
  }

  /** A session for an initialize request; it is registered once the transport gives it an id. */
  async open(callerKey: string | null): Promise<McpSession> {
    const session = new McpSession(
      callerKey,
      this.settings,
      this.createServer,
      (s) => {
        this.sessions.set(s.id!, s);
        this.log.info({ session: s.id, sessions: this.sessions.size }, 'MCP session opened');
      },
      (s) => {
        this.live.delete(s);
        if (s.id !== undefined && this.sessions.delete(s.id)) this.log.info({ session: s.id, sessions: this.sessions.size }, 'MCP session closed');
      },
    );
    this.live.add(session);
    session.server.onerror = (err) => this.log.debug({ err: err.message }, 'MCP transport');
    await session.server.connect(session.transport);
    return session;
  }

  /** Closes (with their streams) sessions idle for longer than the timeout or past their lifetime; returns how many. */
  sweep(now = Date.now()): number {
    let closed = 0;
    for (const session of this.sessions.values()) {
      if (!session.isExpired(now, this.settings)) continue;
      closed++;
      this.log.info({ session: session.id }, 'MCP session expired');
      void session.close().catch((err) => this.log.warn({ err, session: session.id }, 'closing an expired MCP session failed'));
    }
    return closed;
  }

  /** At shutdown: ends every stream (so the HTTP server can close) and aborts every call. */
  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.live].map((s) => s.close()));
    this.sessions.clear();
    this.live.clear();
  }
}
