import type { DirectoryPeer, LostReason, PeerDirectory } from '../directory.js';

export interface SeenEvent {
  event: 'found' | 'updated' | 'lost';
  peer: DirectoryPeer;
  reason?: LostReason;
  atMs: number;
}

/** A directory's events as they came, and a way to wait for one. */
export class EventLog {
  readonly events: SeenEvent[] = [];
  readonly #waiters = new Set<() => void>();

  /** Records an in-process directory's events from now on. */
  static of(directory: PeerDirectory): EventLog {
    const log = new EventLog();
    directory.on('found', (peer) => log.record({ event: 'found', peer, atMs: Date.now() }));
    directory.on('updated', (peer) => log.record({ event: 'updated', peer, atMs: Date.now() }));
    directory.on('lost', (peer, reason) => log.record({ event: 'lost', peer, reason, atMs: Date.now() }));
    return log;
  }

  record(event: SeenEvent): void {
    this.events.push(event);
    for (const wake of this.#waiters) wake();
  }

  /** Resolves with the first event (past or future) that matches; fails after the timeout. */
  waitFor(match: (event: SeenEvent) => boolean, timeoutMs = 10_000): Promise<SeenEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.find(match);
        if (!found) return false;
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error('timed out waiting for a directory event'));
      }, timeoutMs);
      if (!check()) this.#waiters.add(check);
    });
  }
}
