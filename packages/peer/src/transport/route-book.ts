import type { RelayRoute } from '@p2p-messenger/discovery';

/**
 * The ways through bridges that the directories list for each peer, fewest hops first, as
 * the directories list them now (kept in memory only: a bridge's address is no address of
 * the peer, and routes come back with the next listing after a restart).
 */
export class RouteBook {
  readonly #routes = new Map<string, RelayRoute[]>();

  set(peerId: string, routes: readonly RelayRoute[] | undefined): void {
    if (!routes || routes.length === 0) {
      this.#routes.delete(peerId);
      return;
    }
    this.#routes.set(
      peerId,
      [...routes].sort((a, b) => a.hops - b.hops || a.bridgeId.localeCompare(b.bridgeId)).map((r) => ({ ...r })),
    );
  }

  forget(peerId: string): void {
    this.#routes.delete(peerId);
  }

  /** The routes to a peer, fewest hops first (empty when none is listed). */
  routes(peerId: string): RelayRoute[] {
    return (this.#routes.get(peerId) ?? []).map((r) => ({ ...r }));
  }
}
