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
  // Two stores share the file: a writer waits for the other instead of failing.
  db.pragma('busy_timeout = 5000');
  db.exec(schema);
  return db;
}
