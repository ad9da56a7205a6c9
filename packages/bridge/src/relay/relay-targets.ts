import type { Duplex } from 'node:stream';
import type { GreetRequest, GreetResponse, PeerIdentity } from '@p2p-messenger/proto';
import type { FederationRelay, RelayEgress, SeamCallOptions } from '../relay-seam.js';

/**
 * What the relay's ingress (the secure and greeting ports peers call) needs: whether a peer
 * is one this bridge advertises, and the calls that reach it. The federation provides them
 * for remote peers (fromFederation); a single bridge can serve its own peers (fromEgress).
 */
export interface RelayTargets {
  advertised(peerId: string): boolean;
  openRelay(targetId: string, options?: SeamCallOptions): Promise<Duplex>;
  relayGreeting(targetId: string, request: GreetRequest, options?: SeamCallOptions): Promise<GreetResponse>;
  relayIdentify(targetId: string, options?: SeamCallOptions): Promise<PeerIdentity>;
}

/** The federation's routes: a peer is advertised here when a link leads to it. */
export function fromFederation(federation: FederationRelay): RelayTargets {
  return {
    advertised: (peerId) => federation.routeTo(peerId) !== null,
    openRelay: (targetId, options) => federation.openRelay(targetId, options),
    relayGreeting: (targetId, request, options) => federation.relayGreeting(targetId, request, options),
    relayIdentify: (targetId, options) => federation.relayIdentify(targetId, options),
  };
}

/**
 * Straight to an egress, for the peers `advertised` admits: a bridge relaying within its own
 * side (a loopback setup, or peers that only reach each other through it).
 */
export function fromEgress(egress: RelayEgress, advertised: (peerId: string) => boolean, bridgeId: string) {
  const targets: RelayTargets = {
    advertised,
    openRelay: (targetId, options) => egress.connect(targetId, bridgeId, options),
    relayGreeting: (targetId, request, options) => egress.greet(targetId, request, options),
    relayIdentify: (targetId, options) => egress.identify(targetId, options),
  };
  return targets;
}
