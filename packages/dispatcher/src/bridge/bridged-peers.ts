import { EventEmitter } from 'node:events';
import type { RemoteRoute } from '@p2p-messenger/bridge';
import type { CatalogEntry, RelayRoute } from '@p2p-messenger/discovery';

/** Where this network's peers reach the dispatcher's bridge. */
export type BridgeAccess = Omit<RelayRoute, 'hops'>;

export interface BridgedPeersEvents {
  changed: [];
}

/**
 * The peers of other networks that the dispatcher's bridge advertises, as catalog entries:
 * no address of their own, one route through the bridge. The catalog API lists them to
 * users' peers next to each other.
 */
export class BridgedPeers extends EventEmitter<BridgedPeersEvents> {
  readonly #access: BridgeAccess;
  readonly #entries = new Map<string, CatalogEntry>();

  constructor(access: BridgeAccess) {
    super();
    this.#access = access;
  }

  /** New or changed remote peers. */
  put(routes: readonly RemoteRoute[]): void {
    for (const route of routes) {
      const { record } = route;
      this.#entries.set(route.peerId, {
        id: route.peerId,
        name: route.name,
        addresses: [],
        greetingPort: record.greetingPort,
        securePort: record.securePort,
        protocolVersion: record.protocolVersion,
        relays: [{ ...this.#access, hops: route.hops }],
      });
    }
    if (routes.length > 0) this.emit('changed');
  }

  remove(peerIds: readonly string[]): void {
    const removed = peerIds.filter((id) => this.#entries.delete(id));
    if (removed.length > 0) this.emit('changed');
  }

  clear(): void {
    this.remove([...this.#entries.keys()]);
  }

  entries(): CatalogEntry[] {
    return [...this.#entries.values()].map((entry) => ({
      ...entry,
      addresses: [...entry.addresses],
      relays: entry.relays?.map((r) => ({ ...r })),
    }));
  }
}
