import type { Duplex } from 'node:stream';
import type { GreetRequest, GreetResponse, PeerIdentity } from '@p2p-messenger/proto';

/**
 * The seam between the federation (links between bridges, routes to remote peers) and the
 * relay (SNI listener, greeting port, egress to local peers). The federation moves relay
 * requests between bridges; the relay side moves the bytes in and out of its own network.
 */

/** Deadline and abort for a call that crosses links. */
export interface SeamCallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** A remote peer as the federation reaches it: through which link, how many bridges away. */
export interface RemoteRoute {
  readonly peerId: string;
  readonly name: string;
  /** Bridges between us and the peer's own network (1: the next bridge holds it). */
  readonly hops: number;
  /** Id of the bridge at the other end of the link the route leaves by. */
  readonly nextHop: string;
  /** The peer's signed identity record (already checked against its id). */
  readonly record: PeerIdentity;
}

/**
 * What the relay side asks of the federation, for a peer of another network. Each call is
 * routed by the route table to the link that leads to the target, and hop by hop to the
 * bridge whose local network holds it. A target with no route fails with NoRouteError; a
 * refusal further along fails with RelayRefusedError (its `code` is a gRPC status code).
 */
export interface FederationRelay {
  /** The route to a remote peer, or null: the relay relays only to peers it advertises. */
  routeTo(targetPeerId: string): RemoteRoute | null;
  /** A peer of our own network as the local side reported it (its record), or null. */
  localPeer(peerId: string): PeerIdentity | null;
  /**
   * A raw byte stream to the target's secure port, through the bridges. Back-pressure is end
   * to end (HTTP/2 flow control on every link); end() half-closes, destroy() aborts.
   */
  openRelay(targetPeerId: string, options?: SeamCallOptions): Promise<Duplex>;
  /** The target's answer to a greeting (the last bridge sets via_bridge_id). */
  relayGreeting(targetPeerId: string, request: GreetRequest, options?: SeamCallOptions): Promise<GreetResponse>;
  /** The target's own signed identity record, asked of it in its own network. */
  relayIdentify(targetPeerId: string, options?: SeamCallOptions): Promise<PeerIdentity>;
}

/**
 * What the federation asks of the relay side when a request from another bridge reaches the
 * network that holds the target: greet it, ask its record, or connect to its secure port.
 * Implementations refuse a peer they do not know (throw NoRouteError) or a request over
 * their limits (throw RelayRefusedError with RESOURCE_EXHAUSTED); the federation passes the
 * refusal back to the bridge that asked.
 */
export interface RelayEgress {
  greet(targetId: string, request: GreetRequest, options?: SeamCallOptions): Promise<GreetResponse>;
  identify(targetId: string, options?: SeamCallOptions): Promise<PeerIdentity>;
  /**
   * A raw byte stream to the target's secure port. `fromBridgeId` is the bridge the request
   * came from (for per-link limits). The federation pipes it to the relay stream both ways
   * and destroys it when the relay stream goes.
   */
  connect(targetId: string, fromBridgeId: string, options?: SeamCallOptions): Promise<Duplex>;
}

/** No route to the target: not a local peer, and no link advertises it. */
export class NoRouteError extends Error {
  override name = 'NoRouteError';
  readonly targetId: string;

  constructor(targetId: string, message = `no route to peer ${targetId}`) {
    super(message);
    this.targetId = targetId;
  }
}

/** A bridge (this one or one further along) refused the request; `code` is a gRPC status. */
export class RelayRefusedError extends Error {
  override name = 'RelayRefusedError';
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}
