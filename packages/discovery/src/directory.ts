import { EventEmitter } from 'node:events';

/** Where an entry came from: shown to the user next to each peer. */
export type DirectorySource = 'multicast' | 'consul' | 'static' | 'catalog' | 'gossip';

/**
 * A way to a peer of another network, through a bridge: greet at the bridge's greeting port
 * naming the peer (GreetRequest.target_id), then open TLS to its secure port with the peer's
 * id as SNI. The bridge never holds the peer's keys, so the peer proves itself end to end.
 */
export interface RelayRoute {
  bridgeId: string;
  /** The bridge, as this network reaches it. */
  host: string;
  greetingPort: number;
  securePort: number;
  /** Bridges between this network and the peer's (1: the bridge named is the last). */
  hops: number;
}

/** A peer as a directory sees it. Nothing here is trusted: the greeting checks the key. */
export interface DirectoryPeer {
  id: string;
  name: string;
  /**
   * Hosts (IP literals or names) it can be reached at directly, at its own ports, best first.
   * Empty for a peer heard of only through a bridge.
   */
  addresses: string[];
  greetingPort: number;
  securePort: number;
  protocolVersion: number;
  /** Ids of other peers it says it knows. */
  knownPeerIds: string[];
  /** Every source that lists it (one, except in a merged view). */
  sources: DirectorySource[];
  /** When a source last heard of it, ms since the epoch. */
  lastSeenMs: number;
  /** Ways through bridges, fewest hops first; dialers try them after the direct addresses. */
  relays?: RelayRoute[];
}

export type LostReason = 'goodbye' | 'expired' | 'deregistered' | 'unhealthy' | 'removed' | 'stopped';

export interface DirectoryEvents {
  found: [peer: DirectoryPeer];
  updated: [peer: DirectoryPeer];
  lost: [peer: DirectoryPeer, reason: LostReason];
}

/** A way of finding peers: multicast on a LAN, a catalog in the cloud, a list of addresses. */
export interface PeerDirectory extends EventEmitter<DirectoryEvents> {
  readonly source: DirectorySource;
  start(): Promise<void>;
  /** Releases every socket and timer; emits nothing after it resolves. */
  stop(): Promise<void>;
  /** The peers present now. */
  peers(): DirectoryPeer[];
  /** One peer, if present. */
  peer(id: string): DirectoryPeer | undefined;
}

/** What decides whether an entry changed enough to report (lastSeenMs alone does not). */
function sameListing(a: DirectoryPeer, b: DirectoryPeer): boolean {
  return (
    a.name === b.name &&
    a.greetingPort === b.greetingPort &&
    a.securePort === b.securePort &&
    a.protocolVersion === b.protocolVersion &&
    a.addresses.join() === b.addresses.join() &&
    a.knownPeerIds.join() === b.knownPeerIds.join() &&
    a.sources.join() === b.sources.join() &&
    routesKey(a.relays) === routesKey(b.relays)
  );
}

function routesKey(relays: readonly RelayRoute[] | undefined): string {
  return (relays ?? []).map((r) => `${r.bridgeId}@${r.host}:${r.greetingPort}/${r.securePort}#${r.hops}`).join();
}

/**
 * The bookkeeping every directory shares: the current entries by id, and found / updated /
 * lost events emitted only on real changes.
 */
export abstract class DirectoryBase extends EventEmitter<DirectoryEvents> implements PeerDirectory {
  abstract readonly source: DirectorySource;
  readonly #entries = new Map<string, DirectoryPeer>();
  #stopped = false;

  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;

  peers(): DirectoryPeer[] {
    return [...this.#entries.values()].map(copyPeer);
  }

  peer(id: string): DirectoryPeer | undefined {
    const entry = this.#entries.get(id);
    return entry ? copyPeer(entry) : undefined;
  }

  /** Adds or replaces an entry; emits found or updated when something a user sees changed. */
  protected put(peer: DirectoryPeer): void {
    if (this.#stopped) return;
    const previous = this.#entries.get(peer.id);
    this.#entries.set(peer.id, peer);
    if (!previous) this.emit('found', copyPeer(peer));
    else if (!sameListing(previous, peer)) this.emit('updated', copyPeer(peer));
  }

  protected remove(id: string, reason: LostReason): void {
    const previous = this.#entries.get(id);
    if (!previous) return;
    this.#entries.delete(id);
    if (!this.#stopped) this.emit('lost', copyPeer(previous), reason);
  }

  /** Call from start(): a restarted directory reports again. */
  protected markStarted(): void {
    this.#stopped = false;
  }

  /** Call from stop(): forgets every entry without reporting them lost. */
  protected markStopped(): void {
    this.#stopped = true;
    this.#entries.clear();
  }
}

export function copyPeer(peer: DirectoryPeer): DirectoryPeer {
  return {
    ...peer,
    addresses: [...peer.addresses],
    knownPeerIds: [...peer.knownPeerIds],
    sources: [...peer.sources],
    ...(peer.relays ? { relays: peer.relays.map((route) => ({ ...route })) } : {}),
  };
}
