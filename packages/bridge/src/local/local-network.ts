import type { EventEmitter } from 'node:events';
import type { PeerIdentity } from '@p2p-messenger/proto';
import type { RemoteRoute } from '../relay-seam.js';

export interface LocalNetworkEvents {
  /** A peer of this network appeared, with its signed record (the federation checks it). */
  localFound: [record: PeerIdentity];
  /** A known local peer re-signed its record (new name, addresses or ports). */
  localUpdated: [record: PeerIdentity];
  /** A local peer left (goodbye, expiry, deregistration). */
  localLost: [peerId: string];
}

/**
 * The bridge's own network, as the federation sees it: where local peers are learned and
 * remote peers re-advertised (multicast on a LAN, catalog entries in the cloud).
 */
export interface LocalNetwork extends EventEmitter<LocalNetworkEvents> {
  start(): Promise<void>;
  /** Withdraws whatever it advertised; safe to call twice. */
  stop(): Promise<void>;
  /** The local peers known now (events follow for later changes). */
  peers(): PeerIdentity[];
  /** Remote peers reachable through this bridge, new or changed: advertise them locally. */
  advertise(routes: RemoteRoute[]): void;
  /** Remote peers no longer reachable through this bridge. */
  withdraw(peerIds: string[]): void;
}
