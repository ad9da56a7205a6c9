import type { DirectoryPeer, RelayRoute } from '../directory.js';
import { type HealthEntry, peerFromHealthEntry, type Registration, validPort } from './service-record.js';

/** A peer of another network, as a bridge registers it: reachable through the bridge only. */
export interface RelayedPeerEntry {
  peerId: string;
  name: string;
  /** The peer's own ports (what its record says), not the bridge's. */
  greetingPort: number;
  securePort: number;
  protocolVersion: number;
  /** Bridges between this network and the peer's (1: the registering bridge holds the link to it). */
  hops: number;
}

/** Where this network's peers reach the registering bridge. */
export type RelayAccess = Omit<RelayRoute, 'hops'>;

/** The tag on every relay entry, so that operators (and routers) can tell them from peers. */
export const RELAY_TAG = 'p2pm-relayed';

/** One service per bridge and peer: two bridges advertising the same peer give two routes. */
export function relayServiceId(bridgeId: string, peerId: string): string {
  return `p2pm-relay-${bridgeId}-${peerId}`;
}

export function relayCheckId(bridgeId: string, peerId: string): string {
  return `p2pm-relay:${bridgeId}:${peerId}`;
}

/**
 * The registration of a remote peer in the peers' service: the bridge's address and relay
 * greeting port as the service's, the peer's own identity and ports in meta (as a peer's own
 * registration has them) and the route in `relay_*` meta. Its TTL check is the bridge's to keep
 * passing: a bridge that dies leaves entries that fail, then go.
 */
export function relayRegistrationFor(
  peer: RelayedPeerEntry,
  access: RelayAccess,
  init: { serviceName: string; tags: readonly string[]; ttlMs: number; reapAfterMs: number },
): Registration {
  return {
    id: relayServiceId(access.bridgeId, peer.peerId),
    name: init.serviceName,
    address: access.host,
    port: access.greetingPort,
    tags: [...new Set(['p2pm', RELAY_TAG, ...init.tags])],
    meta: {
      peer_id: peer.peerId,
      peer_name: peer.name,
      greeting_port: String(peer.greetingPort),
      secure_port: String(peer.securePort),
      protocol_version: String(peer.protocolVersion),
      state: 'relayed',
      relay_bridge_id: access.bridgeId,
      relay_greeting_port: String(access.greetingPort),
      relay_secure_port: String(access.securePort),
      relay_hops: String(peer.hops),
    },
    check: {
      checkid: relayCheckId(access.bridgeId, peer.peerId),
      name: 'relayed through a bridge',
      ttl: `${Math.ceil(init.ttlMs / 1000)}s`,
      deregistercriticalserviceafter: `${Math.ceil(init.reapAfterMs / 1000)}s`,
      status: 'passing',
    },
  };
}

/** Whether a health entry is a bridge's relay entry (whatever else it holds). */
export function isRelayEntry(entry: HealthEntry): boolean {
  return entry.Service?.Meta?.relay_bridge_id !== undefined;
}

/** The route a relay entry describes, or null when it is none or malformed. */
export function relayRouteOf(entry: HealthEntry): RelayRoute | null {
  const meta = entry.Service?.Meta ?? {};
  const bridgeId = meta.relay_bridge_id;
  const host = entry.Service?.Address || entry.Node?.Address;
  const greetingPort = Number(meta.relay_greeting_port ?? entry.Service?.Port);
  const securePort = Number(meta.relay_secure_port);
  const hops = Number(meta.relay_hops);
  if (!bridgeId || !/^[a-z2-7]{16,64}$/.test(bridgeId) || !host) return null;
  if (!validPort(greetingPort) || !validPort(securePort) || !Number.isInteger(hops) || hops < 1) return null;
  return { bridgeId, host, greetingPort, securePort, hops };
}

/** A relay entry as a directory lists it: no address of its own, one route through the bridge. */
export function relayedPeerFromHealthEntry(entry: HealthEntry, now: number): DirectoryPeer | null {
  const route = relayRouteOf(entry);
  const peer = route && peerFromHealthEntry(entry, now);
  return peer && route ? { ...peer, addresses: [], relays: [route] } : null;
}
