import type { DirectoryPeer } from '../directory.js';
import type { HeardPeers } from './heard-peers.js';
import type { RelayedListing } from './relay-routes.js';

type Heard = NonNullable<ReturnType<HeardPeers['get']>>;

/**
 * A peer as multicast lists it: heard directly (its addresses and its own ports) and through
 * bridges (its routes, extra); null when neither is left.
 */
export function multicastListing(
  peerId: string,
  heard: Heard | undefined,
  relayed: RelayedListing | undefined,
): DirectoryPeer | null {
  const routes = relayed ? { relays: relayed.relays } : {};
  if (heard) {
    const { announcement: a } = heard;
    return {
      id: a.peerId,
      name: a.name,
      addresses: heard.addresses,
      greetingPort: a.greetingPort,
      securePort: a.securePort,
      protocolVersion: a.protocolVersion,
      // In a fixed order: senders list them newest first, an order that changes with every
      // greeting they make, and a listing that changes is reported and handled again.
      knownPeerIds: [...a.knownPeerIds].sort(),
      sources: ['multicast'],
      lastSeenMs: heard.lastHeardMs,
      ...routes,
    };
  }
  if (!relayed) return null;
  return {
    id: peerId,
    name: relayed.name,
    // Heard of only through bridges: no address of its own, and its own ports unknown (0);
    // its routes say where to greet it.
    addresses: [],
    greetingPort: 0,
    securePort: 0,
    protocolVersion: relayed.protocolVersion,
    knownPeerIds: [],
    sources: ['multicast'],
    lastSeenMs: relayed.lastHeardMs,
    relays: relayed.relays,
  };
}
