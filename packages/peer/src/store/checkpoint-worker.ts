/**
 * Runs in a worker thread: copies the WAL back into the database file (a PASSIVE checkpoint,
 * which never blocks the writer) every few hundred milliseconds, so that the fsyncs of
 * checkpointing never stall the peer's event loop.
 *
 * Under sustained writing a PASSIVE checkpoint never catches up with the writer, and the WAL
 * only starts over once one does; so when the WAL has grown past `maxWalBytes`, a RESTART
 * checkpoint (which holds the writer back for the few frames left) lets it start over.
 */
import { statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { path, intervalMs, maxWalBytes } = workerData as { path: string; intervalMs: number; maxWalBytes: number };
const db = new Database(path);
db.pragma('busy_timeout = 1000');

function walBytes(): number {
  try {
    return statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
}

const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    if (walBytes() > maxWalBytes) db.pragma('wal_checkpoint(RESTART)');
  } catch (err) {
    parentPort?.postMessage({ error: (err as Error).message });
  }
}, intervalMs);

parentPort?.on('message', (message: string) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
