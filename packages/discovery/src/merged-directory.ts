import {
  DirectoryBase,
  type DirectoryPeer,
  type LostReason,
  type PeerDirectory,
  type RelayRoute,
} from './directory.js';

export type MergedPeer = DirectoryPeer;

/**
 * One view of several directories: a peer listed by any of them is present, with the
 * addresses of all (in the order the directories were given) and every source named. It is
 * lost only when the last directory loses it.
 */
export class MergedDirectory extends DirectoryBase {
  readonly source = 'gossip' as const;
  readonly #directories: readonly PeerDirectory[];
  readonly #listeners: { directory: PeerDirectory; off: () => void }[] = [];

  constructor(directories: readonly PeerDirectory[]) {
    super();
    this.#directories = directories;
  }

  get directories(): readonly PeerDirectory[] {
    return this.#directories;
  }

  /** Starts every directory; if one cannot start, stops those already started and rethrows. */
  async start(): Promise<void> {
    this.markStarted();
    for (const directory of this.#directories) {
      const onChange = (peer: DirectoryPeer) => this.#refresh(peer.id, 'removed');
      const onLost = (peer: DirectoryPeer, reason: LostReason) => this.#refresh(peer.id, reason);
      directory.on('found', onChange);
      directory.on('updated', onChange);
      directory.on('lost', onLost);
      this.#listeners.push({
        directory,
        off: () => {
          directory.off('found', onChange);
          directory.off('updated', onChange);
          directory.off('lost', onLost);
        },
      });
    }
    try {
      for (const directory of this.#directories) await directory.start();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    for (const { off } of this.#listeners.splice(0)) off();
    await Promise.allSettled(this.#directories.map((directory) => directory.stop()));
    this.markStopped();
  }

  #refresh(peerId: string, reason: LostReason): void {
    const listings = this.#directories.flatMap((d) => d.peer(peerId) ?? []);
    if (listings.length === 0) {
      this.remove(peerId, reason);
      return;
    }
    // The ports are the peer's own: a listing with direct addresses knows them, a listing
    // only through bridges does not.
    const direct = listings.filter((p) => p.addresses.length > 0);
    const newest = (direct.length > 0 ? direct : listings).reduce((a, b) => (b.lastSeenMs > a.lastSeenMs ? b : a));
    const relays = mergedRelays(listings);
    const { relays: _ignored, ...rest } = newest;
    this.put({
      ...rest,
      addresses: unique(listings.flatMap((p) => p.addresses)),
      knownPeerIds: unique(listings.flatMap((p) => p.knownPeerIds)),
      sources: unique(listings.flatMap((p) => p.sources)),
      lastSeenMs: Math.max(...listings.map((p) => p.lastSeenMs)),
      ...(relays.length > 0 ? { relays } : {}),
    });
  }
}

/** Every listing's bridge routes, one per bridge (fewest hops), fewest hops first. */
function mergedRelays(listings: readonly DirectoryPeer[]): RelayRoute[] {
  const byBridge = new Map<string, RelayRoute>();
  for (const route of listings.flatMap((p) => p.relays ?? [])) {
    const known = byBridge.get(route.bridgeId);
    if (!known || route.hops < known.hops) byBridge.set(route.bridgeId, route);
  }
  return [...byBridge.values()].sort((a, b) => a.hops - b.hops || a.bridgeId.localeCompare(b.bridgeId));
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
