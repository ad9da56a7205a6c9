import Database from 'better-sqlite3';

/**
 * The dispatcher's SQLite files (accounts, catalog): WAL, and a busy timeout so that two
 * dispatchers sharing a file wait for each other instead of failing. `schema` runs once.
 * synchronous=NORMAL: in WAL mode a commit survives a crash of the process (not a power
 * loss), without an fsync on every log-in and claim. journal_size_limit=0: the WAL is cut
 * back at each restart, so that commits append to it rather than rewrite old pages, which
 * the kernel may have dropped from its cache by then and would read back first.
 */
export function openDatabase(path: string, schema: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  db.pragma('journal_size_limit = 0');
  db.exec(schema);
  return db;
}
