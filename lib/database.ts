/**
 * The gateway's SQLite file in its data directory, opened the same way by every store
 * that keeps records there (lib/run-store.ts, lib/sandboxes/sandbox-store.ts).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export function openDatabase(dataDir: string, schema: string): Database.Database {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, 'runs.sqlite3'));
  db.pragma('journal_mode = WAL');
  // With WAL, NORMAL syncs at checkpoints, not at every commit: a commit survives the
  // gateway's own crash (kill -9), only a host power loss can lose the last ones; it
  // spares each run or exec the several fsyncs its record's updates would otherwise cost.
  db.pragma('synchronous = NORMAL');
  // Two stores share the file: a writer waits for the other instead of failing.
  db.pragma('busy_timeout = 5000');
  db.exec(schema);
  return db;
}
