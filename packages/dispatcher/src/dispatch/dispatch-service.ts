import type { KeyObject } from 'node:crypto';
import { issueTicket } from '@p2p-messenger/peer';
import { type Logger, pino } from 'pino';
import type { Catalog, CatalogPeer } from '../catalog/catalog.js';
import { PeersUnavailableError, TooBusyError } from '../errors.js';
import type { StartFailure, WarmPool } from '../pool/warm-pool.js';
import type { Router } from '../router/router.js';

export interface DispatchOptions {
  catalog: Catalog;
  /** Told who waits for a new peer, and when a claim took a vacant one; asked whether peers can start. */
  pool: Pick<WarmPool, 'want' | 'unwant' | 'refillSoon' | 'startFailure' | 'owned'>;
  router: Pick<Router, 'entryFor'>;
  ticketKey: KeyObject;
  /** Users waiting for a new peer at once; the next one gets TooBusyError. */
  maxWaitingUsers: number;
  /** A waiting user who stopped watching is forgotten after this long. */
  abandonAfterMs?: number;
  log?: Logger;
}

export interface WaitProgress {
  /** 1 = next to get a peer. */
  position: number;
  elapsedMs: number;
}

interface Waiter {
  sinceMs: number;
  /** No peer is assigned to the user yet: one is started for them, and they count against the limit. */
  wantsNewPeer: boolean;
  watchers: number;
  abandonTimer: NodeJS.Timeout | null;
  done: Promise<CatalogPeer>;
  resolve: (peer: CatalogPeer) => void;
  reject: (err: Error) => void;
}

/**
 * Hands users their peers: the one assigned to them, else a vacant one claimed for them
 * (atomically, in the catalog), else a place in the line while the pool starts one, handed
 * out in order of arrival. A peer is handed over as a short-lived, single-use ticket URL.
 */
export class DispatchService {
  readonly #options: DispatchOptions;
  readonly #log: Logger;
  readonly #waiters = new Map<string, Waiter>();
  #draining: Promise<void> | null = null;
  #again = false;
  readonly #onChanged = () => void this.#drain();

  constructor(options: DispatchOptions) {
    this.#options = options;
    this.#log = (options.log ?? pino({ level: 'silent' })).child({ component: 'dispatch' });
    options.catalog.on('changed', this.#onChanged);
  }

  close(): void {
    this.#options.catalog.off('changed', this.#onChanged);
    for (const waiter of this.#waiters.values()) if (waiter.abandonTimer) clearTimeout(waiter.abandonTimer);
    this.#waiters.clear();
  }

  /** The user's peer if it is ready now (claiming one if needed), else null. Never waits. */
  async peerNow(userId: string): Promise<CatalogPeer | null> {
    const waiter = this.#waiters.get(userId);
    // A user waiting for a new peer takes their turn; one whose peer is assigned never waits behind others.
    if (waiter?.wantsNewPeer && this.#waiterAhead(userId)) return null;
    return this.#claimReady(userId);
  }

  /**
   * Puts the user in line for their peer: a new one (TooBusyError when too many wait for
   * one), or theirs while it is not reachable yet (after a restart: it is coming back, and
   * nothing new is started for them). Idempotent.
   */
  async enqueue(userId: string): Promise<void> {
    if (this.#waiters.has(userId)) return;
    const wantsNewPeer = !(await this.#options.catalog.assignedTo(userId));
    if (this.#waiters.has(userId)) return;
    if (wantsNewPeer) this.#throwIfPeersCannotStart();
    if (wantsNewPeer && this.#newPeerWaiters() >= this.#options.maxWaitingUsers) throw new TooBusyError(5);
    let resolve: (peer: CatalogPeer) => void = () => {};
    let reject: (err: Error) => void = () => {};
    const done = new Promise<CatalogPeer>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Told to whoever watches; a waiter nobody watches just goes.
    done.catch(() => {});
    const waiter: Waiter = {
      sinceMs: Date.now(),
      wantsNewPeer,
      watchers: 0,
      abandonTimer: null,
      done,
      resolve,
      reject,
    };
    this.#waiters.set(userId, waiter);
    this.#armAbandon(userId, waiter);
    if (wantsNewPeer) this.#options.pool.want(userId);
    this.#log.info({ userId, wantsNewPeer, waiting: this.#waiters.size }, 'user waits for a peer');
    // Theirs may have come back meanwhile.
    if (!wantsNewPeer) void this.#drain();
  }

  /**
   * The pool's starts failed and none is under way: those waiting for a new peer are told at
   * once (PeersUnavailableError) rather than left on the progress page. Those whose own peer is
   * coming back keep waiting; a peer that came meanwhile is handed out first.
   */
  async startsFailed(failure: StartFailure): Promise<void> {
    await this.#drain();
    const error = new PeersUnavailableError(retryAfterS(failure));
    for (const [userId, waiter] of this.#waiters) {
      if (!waiter.wantsNewPeer) continue;
      this.#forget(userId, waiter);
      this.#log.warn({ userId, err: failure.error }, 'no peer can be started for a waiting user');
      waiter.reject(error);
    }
  }

  /** Within the pool's pause after failed starts, a new peer would not even be tried. */
  #throwIfPeersCannotStart(): void {
    const failure = this.#options.pool.startFailure;
    if (failure && failure.retryAtMs > Date.now()) throw new PeersUnavailableError(retryAfterS(failure));
  }

  #newPeerWaiters(): number {
    let count = 0;
    for (const waiter of this.#waiters.values()) if (waiter.wantsNewPeer) count++;
    return count;
  }

  /** Waits for the user's peer (enqueue first), reporting progress; rejects when `signal` aborts. */
  async wait(userId: string, signal: AbortSignal, progress: (p: WaitProgress) => void): Promise<CatalogPeer> {
    const waiter = this.#waiters.get(userId);
    if (!waiter) {
      const peer = await this.#claimReady(userId);
      if (peer) return peer;
      throw new Error('not waiting: enqueue first');
    }
    waiter.watchers++;
    if (waiter.abandonTimer) clearTimeout(waiter.abandonTimer);
    const report = () => progress({ position: this.#positionOf(userId), elapsedMs: Date.now() - waiter.sinceMs });
    report();
    const ticker = setInterval(report, 250);
    try {
      void this.#drain();
      return await new Promise<CatalogPeer>((resolve, reject) => {
        const onAbort = () => reject(signal.reason ?? new Error('aborted'));
        if (signal.aborted) onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        void waiter.done.then(
          (peer) => {
            signal.removeEventListener('abort', onAbort);
            resolve(peer);
          },
          (err: Error) => {
            signal.removeEventListener('abort', onAbort);
            reject(err);
          },
        );
      });
    } finally {
      clearInterval(ticker);
      waiter.watchers--;
      if (this.#waiters.get(userId) === waiter) this.#armAbandon(userId, waiter);
    }
  }

  /** Where the user opens their peer: its URL with a fresh ticket for them (and their name, which it shows). */
  ticketUrl(peer: CatalogPeer, user: { uid: string; username: string }): string {
    const ticket = issueTicket(this.#options.ticketKey, { peerId: peer.id, owner: user.uid, name: user.username });
    return `${this.#options.router.entryFor(peer.id)}login?ticket=${encodeURIComponent(ticket)}`;
  }

  /** Where a user's logging out passes, for their peer to forget them in that browser too. */
  async logoutUrl(userId: string): Promise<string | null> {
    const peer = await this.#options.catalog.assignedTo(userId);
    return peer ? `${this.#options.router.entryFor(peer.id)}logout` : null;
  }

  async #claimReady(userId: string): Promise<CatalogPeer | null> {
    const { catalog, pool } = this.#options;
    const peer = await catalog.claim(userId);
    if (!peer) return null;
    if (peer.claimedAtMs !== null && Date.now() - peer.claimedAtMs < 1_000) pool.refillSoon();
    pool.owned(peer);
    return peer.healthy && peer.webPort > 0 ? peer : null;
  }

  /** Hands ready peers to waiting users, first come first served; one drain at a time. */
  #drain(): Promise<void> {
    if (this.#draining) {
      this.#again = true;
      return this.#draining;
    }
    // The line moves a tick later, with the guard already set: a claim tells of its change at
    // once, and that must find this drain under way rather than start a second one.
    this.#draining = Promise.resolve()
      .then(() => this.#moveLine())
      .finally(() => {
        this.#draining = null;
      });
    return this.#draining;
  }

  async #moveLine(): Promise<void> {
    do {
      this.#again = false;
      let noneFree = false;
      for (const [userId, waiter] of this.#waiters) {
        // The earliest waiting for a new peer got none: neither do those behind them. Users
        // whose own peers are coming back are still looked at.
        if (noneFree && waiter.wantsNewPeer) continue;
        const peer = await this.#claimReady(userId).catch((err: unknown) => {
          this.#log.error({ err, userId }, 'claim failed');
          return null;
        });
        if (!peer) {
          if (waiter.wantsNewPeer) noneFree = true;
          continue;
        }
        this.#forget(userId, waiter);
        this.#log.info({ userId, peerId: peer.id, waitedMs: Date.now() - waiter.sinceMs }, 'peer handed out');
        waiter.resolve(peer);
      }
    } while (this.#again);
  }

  #waiterAhead(userId: string): boolean {
    return this.#positionOf(userId) > 1;
  }

  /** Among those waiting for a new peer; a user whose own peer is coming back is always next. */
  #positionOf(userId: string): number {
    let position = 1;
    for (const [id, waiter] of this.#waiters) {
      if (id === userId) return waiter.wantsNewPeer ? position : 1;
      if (waiter.wantsNewPeer) position++;
    }
    return 0;
  }

  #forget(userId: string, waiter: Waiter): void {
    if (waiter.abandonTimer) clearTimeout(waiter.abandonTimer);
    this.#waiters.delete(userId);
    if (waiter.wantsNewPeer) this.#options.pool.unwant(userId);
  }

  #armAbandon(userId: string, waiter: Waiter): void {
    if (waiter.watchers > 0) return;
    if (waiter.abandonTimer) clearTimeout(waiter.abandonTimer);
    waiter.abandonTimer = setTimeout(() => {
      if (waiter.watchers > 0) return;
      this.#log.info({ userId }, 'waiting user left');
      this.#forget(userId, waiter);
    }, this.#options.abandonAfterMs ?? 60_000);
    waiter.abandonTimer.unref();
  }
}

/** Whole seconds until the pool tries again; at least one. */
function retryAfterS(failure: StartFailure): number {
  return Math.max(1, Math.ceil((failure.retryAtMs - Date.now()) / 1000));
}
