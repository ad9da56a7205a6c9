import type { KnownPeer } from '@p2p-messenger/proto';
import type { Logger } from 'pino';

/** How gossip reaches a peer it heard of: greet it at an address, expecting its id. */
export type GreetExpecting = (host: string, port: number, expectedId: string) => Promise<void>;

const MAX_PARALLEL = 8;
/**
 * Gossip waits this long before greeting what it heard of: a newcomer on a LAN hears of
 * everyone from everyone at once, and multicast introduces most of them meanwhile.
 */
const SETTLE_MS = 1_500;
/** A peer that could not be reached is not tried again through gossip for this long. */
const RETRY_AFTER_MS = 60_000;

/**
 * Passing on known peers: what a greeting says its sender knows is tried here, so a newcomer
 * that knows one peer meets the rest. Each candidate is greeted at its own addresses and must
 * prove its id; nothing is believed on the gossiper's word.
 */
export class Gossip {
  readonly #greet: GreetExpecting;
  readonly #isKnown: (peerId: string) => boolean;
  readonly #log: Logger;
  readonly #inFlight = new Set<string>();
  readonly #failedAt = new Map<string, number>();
  readonly #queue: KnownPeer[] = [];
  #timer: NodeJS.Timeout | null = null;
  /** Peers first met through gossip. */
  readonly learned = new Set<string>();
  #stopped = false;

  constructor(greet: GreetExpecting, isKnown: (peerId: string) => boolean, log: Logger) {
    this.#greet = greet;
    this.#isKnown = isKnown;
    this.#log = log;
  }

  heard(peers: readonly KnownPeer[]): void {
    const now = Date.now();
    for (const peer of peers) {
      if (this.#isKnown(peer.id) || this.#inFlight.has(peer.id)) continue;
      if (now - (this.#failedAt.get(peer.id) ?? 0) < RETRY_AFTER_MS) continue;
      if (this.#queue.some((queued) => queued.id === peer.id)) continue;
      this.#queue.push(peer);
    }
    if (this.#queue.length > 0 && !this.#timer && !this.#stopped) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#drain();
      }, SETTLE_MS);
      this.#timer.unref();
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#queue.length = 0;
    if (this.#timer) clearTimeout(this.#timer);
  }

  #drain(): void {
    while (!this.#stopped && this.#inFlight.size < MAX_PARALLEL && this.#queue.length > 0) {
      const peer = this.#queue.shift() as KnownPeer;
      if (this.#isKnown(peer.id)) continue;
      this.#inFlight.add(peer.id);
      void this.#try(peer).finally(() => {
        this.#inFlight.delete(peer.id);
        this.#drain();
      });
    }
  }

  async #try(peer: KnownPeer): Promise<void> {
    for (const host of peer.addresses) {
      if (this.#stopped) return;
      try {
        await this.#greet(host, peer.greetingPort, peer.id);
        this.learned.add(peer.id);
        this.#log.info({ remotePeerId: peer.id, host }, 'met a peer through gossip');
        return;
      } catch {
        // The next address, if any.
      }
    }
    this.#failedAt.set(peer.id, Date.now());
  }
}
