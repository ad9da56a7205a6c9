import type { SeenEvent } from '@p2p-messenger/discovery/lab';
import type { PeerDirectory } from '../../src/index.js';

/** Records an in-process directory's events and waits for one. */
export function eventLog(directory: PeerDirectory): {
  events: SeenEvent[];
  waitFor(match: (event: SeenEvent) => boolean, timeoutMs?: number): Promise<SeenEvent>;
} {
  const events: SeenEvent[] = [];
  const waiters = new Set<() => void>();
  const push = (event: SeenEvent) => {
    events.push(event);
    for (const wake of waiters) wake();
  };
  directory.on('found', (peer) => push({ event: 'found', peer, atMs: Date.now() }));
  directory.on('updated', (peer) => push({ event: 'updated', peer, atMs: Date.now() }));
  directory.on('lost', (peer, reason) => push({ event: 'lost', peer, reason, atMs: Date.now() }));
  return {
    events,
    waitFor: (match, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(match);
          if (!found) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error('timed out waiting for a directory event'));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      }),
  };
}
