import type { Announcement, RelayedPeer } from '@p2p-messenger/proto';
import type { RelayRoute } from '../directory.js';
import { isAnnouncedId } from './announcement-codec.js';

/** Longest path through bridges believed; more is a malformed entry. */
const MAX_HOPS = 32;
/** Names longer than peers allow themselves are malformed. */
const MAX_NAME_LENGTH = 64;

/** Why an entry of relayed_peers was ignored: the bridge's own id, ours, or a bad field. */
export type IgnoredEntry = 'bridge-itself' | 'own' | 'malformed';

interface Route {
  name: string;
  hops: number;
  greetingPort: number;
  securePort: number;
  protocolVersion: number;
  /** The bridge's addresses it was heard at -> when (a bridge may be heard over IPv4 and IPv6). */
  hosts: Map<string, number>;
}

/** A peer as the bridges that relay it describe it. */
export interface RelayedListing {
  name: string;
  protocolVersion: number;
  lastHeardMs: number;
  /** Fewest hops first, then by bridge id. */
  relays: RelayRoute[];
}

export interface RelayedOutcome {
  /** Peers whose routes were touched: to publish again. */
  touched: string[];
  ignored: IgnoredEntry[];
}

/**
 * Routes to peers of other networks, as bridges on this LAN advertise them (KIND_RELAYED):
 * one per peer and bridge, each heard at one or more of the bridge's addresses, each
 * address expiring on its own as a hello's does. KIND_WITHDRAWN removes a bridge's routes.
 */
export class RelayRoutes {
  /** Peer id -> bridge id -> route. */
  readonly #routes = new Map<string, Map<string, Route>>();

  relayed(bridge: Announcement, host: string, now: number, selfId: string): RelayedOutcome {
    const outcome: RelayedOutcome = { touched: [], ignored: [] };
    for (const entry of bridge.relayedPeers) {
      const problem = relayedEntryProblem(entry, bridge.peerId, selfId);
      if (problem) {
        outcome.ignored.push(problem);
        continue;
      }
      let byBridge = this.#routes.get(entry.id);
      if (!byBridge) {
        byBridge = new Map();
        this.#routes.set(entry.id, byBridge);
      }
      const hosts = byBridge.get(bridge.peerId)?.hosts ?? new Map<string, number>();
      hosts.set(host, now);
      byBridge.set(bridge.peerId, {
        name: entry.name,
        hops: entry.hops,
        greetingPort: bridge.greetingPort,
        securePort: bridge.securePort,
        protocolVersion: bridge.protocolVersion,
        hosts,
      });
      outcome.touched.push(entry.id);
    }
    return outcome;
  }

  withdrawn(bridge: Announcement, selfId: string): RelayedOutcome {
    const outcome: RelayedOutcome = { touched: [], ignored: [] };
    for (const entry of bridge.relayedPeers) {
      const problem = relayedEntryProblem(entry, bridge.peerId, selfId, { namesAndHops: false });
      if (problem) {
        outcome.ignored.push(problem);
        continue;
      }
      const byBridge = this.#routes.get(entry.id);
      if (!byBridge?.delete(bridge.peerId)) continue;
      if (byBridge.size === 0) this.#routes.delete(entry.id);
      outcome.touched.push(entry.id);
    }
    return outcome;
  }

  /** Forgets bridge addresses not heard since `cutoff`; returns the peers whose routes changed. */
  expire(cutoff: number): string[] {
    const changed: string[] = [];
    for (const [peerId, byBridge] of this.#routes) {
      let dropped = false;
      for (const [bridgeId, route] of byBridge) {
        for (const [host, at] of route.hosts) {
          if (at < cutoff) {
            route.hosts.delete(host);
            dropped = true;
          }
        }
        if (route.hosts.size === 0) byBridge.delete(bridgeId);
      }
      if (byBridge.size === 0) this.#routes.delete(peerId);
      if (dropped) changed.push(peerId);
    }
    return changed;
  }

  get(peerId: string): RelayedListing | undefined {
    const byBridge = this.#routes.get(peerId);
    if (!byBridge || byBridge.size === 0) return undefined;
    let freshest: { route: Route; at: number } | undefined;
    const relays: RelayRoute[] = [];
    for (const [bridgeId, route] of byBridge) {
      const at = Math.max(...route.hosts.values());
      if (!freshest || at > freshest.at) freshest = { route, at };
      relays.push({
        bridgeId,
        host: bestHost(route.hosts),
        greetingPort: route.greetingPort,
        securePort: route.securePort,
        hops: route.hops,
      });
    }
    relays.sort((a, b) => a.hops - b.hops || a.bridgeId.localeCompare(b.bridgeId));
    const { route, at } = freshest as { route: Route; at: number };
    return { name: route.name, protocolVersion: route.protocolVersion, lastHeardMs: at, relays };
  }

  clear(): void {
    this.#routes.clear();
  }
}

/** What is wrong with an entry of a bridge's list, if anything (a withdrawal names ids only). */
export function relayedEntryProblem(
  entry: RelayedPeer,
  bridgeId: string,
  selfId: string,
  { namesAndHops = true } = {},
): IgnoredEntry | null {
  if (entry.id === bridgeId) return 'bridge-itself';
  if (entry.id === selfId) return 'own';
  if (!isAnnouncedId(entry.id)) return 'malformed';
  if (namesAndHops && (entry.hops < 1 || entry.hops > MAX_HOPS || entry.name.length > MAX_NAME_LENGTH)) {
    return 'malformed';
  }
  return null;
}

/** IPv4 before IPv6 (the order dialing tries them in), then the freshest. */
function bestHost(hosts: ReadonlyMap<string, number>): string {
  const ranked = [...hosts].sort((a, b) => rank(a[0]) - rank(b[0]) || b[1] - a[1]);
  return (ranked[0] as [string, number])[0];
}

function rank(address: string): number {
  return address.includes(':') ? 1 : 0;
}
