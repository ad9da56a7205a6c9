import type { Logger } from 'pino';
import type { DirectoryPeer, LostReason, RelayRoute } from '../directory.js';
import type { ConsulClient, WatchHandle } from './consul-client.js';
import { isRelayEntry, relayedPeerFromHealthEntry } from './relay-record.js';
import { type HealthEntry, isPassing, peerFromHealthEntry } from './service-record.js';
import { VisibleKeys } from './visible-keys.js';

export interface ConsulPeerWatchOptions {
  serviceName: string;
  /** The watching peer's own id, never listed; absent for a watcher that is no peer (a bridge). */
  selfId?: string;
  /** A KV prefix gating who is listed (see ConsulOptions.visibleKeys). */
  visibleKeys?: string;
  /** How long one blocking query may wait for a change. */
  watchWaitMs?: number;
  retry?: { minDelayMs?: number; maxDelayMs?: number };
  log: Logger;
}

/** Where the watch puts what it lists: a directory's own entries. */
export interface PeerSink {
  put(peer: DirectoryPeer): void;
  remove(id: string, reason: LostReason): void;
  peers(): DirectoryPeer[];
}

interface Listings {
  direct: DirectoryPeer[];
  relayed: DirectoryPeer[];
  failing: boolean;
  hidden: boolean;
}

/**
 * The healthy instances of a Consul service, by blocking queries, as directory entries. A peer's
 * own registration gives its address; bridges' relay entries for it give routes (a peer of
 * another network has routes only). With a gate, only peers with a key under the prefix are
 * listed (relay entries need none: they are nobody's spare), and nobody while the watcher's own
 * id has none.
 */
export class ConsulPeerWatch {
  readonly #options: ConsulPeerWatchOptions;
  readonly #gate: VisibleKeys | null;
  #watch: WatchHandle | null = null;
  #sink: PeerSink | null = null;
  /** With a gate: the peers that may be seen, or null until known. */
  #visible: ReadonlySet<string> | null = null;
  #lastEntries: HealthEntry[] = [];

  constructor(options: ConsulPeerWatchOptions) {
    this.#options = options;
    this.#gate =
      options.visibleKeys === undefined
        ? null
        : new VisibleKeys({
            prefix: options.visibleKeys,
            waitMs: options.watchWaitMs ?? 30_000,
            settleMs: 250,
            retry: { minDelayMs: options.retry?.minDelayMs ?? 100, maxDelayMs: options.retry?.maxDelayMs ?? 10_000 },
          });
  }

  start(client: ConsulClient, sink: PeerSink): void {
    this.#sink = sink;
    this.#startWatch(client);
    this.#startGate(client);
  }

  stop(): void {
    this.#sink = null;
    this.#watch?.end();
    this.#watch = null;
    this.#gate?.stop();
    this.#visible = null;
    this.#lastEntries = [];
  }

  /** Blocking queries on the service's health; the watch backs off on its own while Consul is down. */
  #startWatch(client: ConsulClient): void {
    const { serviceName, watchWaitMs, retry, log } = this.#options;
    const watch = client.watch({
      method: (client.health.service as (o: object) => Promise<unknown>).bind(client.health),
      options: { service: serviceName, wait: `${Math.ceil((watchWaitMs ?? 30_000) / 1000)}s` },
      backoffFactor: retry?.minDelayMs ?? 100,
      backoffMax: retry?.maxDelayMs ?? 10_000,
    });
    let failing = false;
    watch.on('change', (data) => {
      failing = false;
      this.#apply(Array.isArray(data) ? (data as HealthEntry[]) : []);
    });
    watch.on('error', (err) => {
      if (!failing) log.warn({ err: err.message }, 'watching Consul failed; retrying');
      failing = true;
    });
    this.#watch = watch;
  }

  /** With a gate: which peers may be seen follows the KV prefix; each change applies the last health answer again. */
  #startGate(client: ConsulClient): void {
    if (!this.#gate) return;
    let failing = false;
    this.#gate.start(
      client,
      (ids) => {
        failing = false;
        this.#visible = ids;
        this.#apply(this.#lastEntries);
      },
      (err) => {
        if (!failing)
          this.#options.log.warn({ err: err.message }, 'watching who may be seen in Consul failed; retrying');
        failing = true;
      },
    );
  }

  /** Whether the gate (if any) lets the watcher see that peer. */
  #mayList(peerId: string, relayed: boolean): boolean {
    if (!this.#gate) return true;
    const visible = this.#visible;
    if (!visible) return false;
    const { selfId } = this.#options;
    if (selfId !== undefined && !visible.has(selfId)) return false;
    return relayed || visible.has(peerId);
  }

  #apply(entries: HealthEntry[]): void {
    const sink = this.#sink;
    if (!sink) return;
    this.#lastEntries = entries;
    const now = Date.now();
    const byPeer = new Map<string, Listings>();
    for (const entry of entries) {
      const relayed = isRelayEntry(entry);
      const peer = relayed ? relayedPeerFromHealthEntry(entry, now) : peerFromHealthEntry(entry, now);
      if (!peer || peer.id === this.#options.selfId) continue;
      let listings = byPeer.get(peer.id);
      if (!listings) {
        listings = { direct: [], relayed: [], failing: false, hidden: false };
        byPeer.set(peer.id, listings);
      }
      if (!this.#mayList(peer.id, relayed)) listings.hidden = true;
      else if (!isPassing(entry)) listings.failing = true;
      else (relayed ? listings.relayed : listings.direct).push(peer);
    }
    const present = new Set<string>();
    for (const [id, listings] of byPeer) {
      const peer = merged(listings);
      if (!peer) continue;
      present.add(id);
      sink.put(peer);
    }
    for (const peer of sink.peers()) {
      if (present.has(peer.id)) continue;
      const listings = byPeer.get(peer.id);
      sink.remove(peer.id, listings?.hidden ? 'removed' : listings?.failing ? 'unhealthy' : 'deregistered');
    }
  }
}

/** One entry per peer: its own registration's address, and every bridge's route to it, fewest hops first. */
function merged({ direct, relayed }: Listings): DirectoryPeer | null {
  const base = direct[0] ?? relayed[0];
  if (!base) return null;
  const routes: RelayRoute[] = relayed
    .flatMap((peer) => peer.relays ?? [])
    .sort((a, b) => a.hops - b.hops || (a.bridgeId < b.bridgeId ? -1 : a.bridgeId > b.bridgeId ? 1 : 0));
  const { relays: _none, ...rest } = base;
  return { ...rest, addresses: direct[0]?.addresses ?? [], ...(routes.length > 0 ? { relays: routes } : {}) };
}
