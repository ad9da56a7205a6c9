import Database from 'better-sqlite3';

/**
 * The dispatcher's SQLite files (accounts, catalog): WAL, and a busy timeout so that two
 * dispatchers sharing a file wait for each other instead of failing. `schema` runs once.
 * synchronous=NORMAL: in WAL mode a commit survives a crash of the process (not a power
 * loss), without an fsync on every log-in and claim.
 */
export function openDatabase(path: string, schema: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  db.exec(schema);
  return db;
}
