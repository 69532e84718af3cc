/**
 * Sandbox records in the runs database (a `sandboxes` table beside `runs`), written
 * synchronously in WAL mode so a sandbox outlives the gateway process, kill -9 included;
 * the engine's labelled containers are the other half of the truth (sandbox-manager.ts
 * reconciles the two at start).
 */
import type Database from 'better-sqlite3';
import { openDatabase } from '../database.js';
import type { SandboxRecord } from '../../schemas/sandboxes.js';

export type SandboxState = SandboxRecord['state'];

/** A stored row: what the doors show, plus what only the gateway needs. */
export interface StoredSandbox {
  id: string;
  owner: string | null;
  state: SandboxState;
  image: string;
  containerId: string | null;
  createdAt: Date;
  lastActivityAt: Date;
  expiresAt: Date;
  idleTimeoutSeconds: number;
  memoryBytes: number;
  workingDir: string;
  labels: Record<string, string>;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sandboxes (
  id TEXT PRIMARY KEY,
  owner TEXT,
  state TEXT NOT NULL,
  image TEXT NOT NULL,
  container_id TEXT,
  created_at INTEGER NOT NULL,
  last_activity_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  idle_timeout_seconds INTEGER NOT NULL,
  memory_bytes INTEGER NOT NULL,
  working_dir TEXT NOT NULL,
  labels TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sandboxes_owner ON sandboxes (owner);
`;

type Row = Record<string, unknown>;

function fromRow(row: Row): StoredSandbox {
  return {
    id: row.id as string,
    owner: (row.owner as string | null) ?? null,
    state: row.state as SandboxState,
    image: row.image as string,
    containerId: (row.container_id as string | null) ?? null,
    createdAt: new Date(row.created_at as number),
    lastActivityAt: new Date(row.last_activity_at as number),
    expiresAt: new Date(row.expires_at as number),
    idleTimeoutSeconds: row.idle_timeout_seconds as number,
    memoryBytes: row.memory_bytes as number,
    workingDir: row.working_dir as string,
    labels: JSON.parse(row.labels as string) as Record<string, string>,
  };
}

export class SandboxStore {
  private readonly db: Database.Database;

  constructor(dataDir: string) {
    this.db = openDatabase(dataDir, SCHEMA);
  }

  /**
   * Inserts a `creating` record if the owner stays within its bounds, in one transaction,
   * so two concurrent creates cannot both take the last place.
   */
  insertWithin(sandbox: StoredSandbox, bounds: { maxCount: number; maxMemoryBytes: number }, refuse: (what: 'count' | 'memory', used: { count: number; memoryBytes: number }) => never): void {
    this.db.transaction(() => {
      const used = this.db
        .prepare('SELECT count(*) AS count, coalesce(sum(memory_bytes), 0) AS memoryBytes FROM sandboxes WHERE ifnull(owner, \'\') = ?')
        .get(sandbox.owner ?? '') as { count: number; memoryBytes: number };
      if (used.count + 1 > bounds.maxCount) refuse('count', used);
      if (used.memoryBytes + sandbox.memoryBytes > bounds.maxMemoryBytes) refuse('memory', used);
      this.db
        .prepare(
          `INSERT INTO sandboxes (id, owner, state, image, container_id, created_at, last_activity_at, expires_at, idle_timeout_seconds, memory_bytes, working_dir, labels)
           VALUES (@id, @owner, @state, @image, @containerId, @createdAt, @lastActivityAt, @expiresAt, @idleTimeoutSeconds, @memoryBytes, @workingDir, @labels)`,
        )
        .run({
          ...sandbox,
          createdAt: sandbox.createdAt.getTime(),
          lastActivityAt: sandbox.lastActivityAt.getTime(),
          expiresAt: sandbox.expiresAt.getTime(),
          labels: JSON.stringify(sandbox.labels),
        });
    })();
  }

  get(id: string): StoredSandbox | undefined {
    const row = this.db.prepare('SELECT * FROM sandboxes WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Everyone's (owner undefined) or one owner's, oldest first. */
  list(owner?: string | null): StoredSandbox[] {
    const rows =
      owner === undefined
        ? this.db.prepare('SELECT * FROM sandboxes ORDER BY created_at, id').all()
        : this.db.prepare('SELECT * FROM sandboxes WHERE ifnull(owner, \'\') = ? ORDER BY created_at, id').all(owner ?? '');
    return (rows as Row[]).map(fromRow);
  }

  /** A `creating` record takes the id its pooled container was born with (lib/sandboxes/warm-pool.ts). */
  rekey(id: string, newId: string): void {
    this.db.prepare('UPDATE sandboxes SET id = ? WHERE id = ? AND state = \'creating\'').run(newId, id);
  }

  markRunning(id: string, containerId: string): void {
    this.db.prepare('UPDATE sandboxes SET state = \'running\', container_id = ? WHERE id = ?').run(containerId, id);
  }

  touch(id: string, at: Date = new Date()): void {
    this.db.prepare('UPDATE sandboxes SET last_activity_at = max(last_activity_at, ?) WHERE id = ?').run(at.getTime(), id);
  }

  setExpiry(id: string, expiresAt: Date): void {
    this.db.prepare('UPDATE sandboxes SET expires_at = ? WHERE id = ?').run(expiresAt.getTime(), id);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM sandboxes WHERE id = ?').run(id);
  }

  close(): void {
    this.db.close();
  }
}
