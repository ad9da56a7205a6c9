import { EventEmitter } from 'node:events';
import type { PeerIdentity } from '@p2p-messenger/proto';
import type { RemoteRoute } from '../relay-seam.js';
import type { LocalNetwork, LocalNetworkEvents } from './local-network.js';

/**
 * A local network held in memory: records are fed to it by its owner (a test, or an
 * embedding process that already knows its peers), and what the federation advertises is
 * kept for anyone to read. No multicast, no catalog.
 */
export class InProcessNetwork extends EventEmitter<LocalNetworkEvents> implements LocalNetwork {
  readonly #peers = new Map<string, PeerIdentity>();
  readonly #advertised = new Map<string, RemoteRoute>();

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    this.#advertised.clear();
  }

  peers(): PeerIdentity[] {
    return [...this.#peers.values()];
  }

  /** A peer joins this network, or re-signs its record. */
  add(record: PeerIdentity): void {
    const known = this.#peers.has(record.id);
    this.#peers.set(record.id, record);
    this.emit(known ? 'localUpdated' : 'localFound', record);
  }

  /** A peer leaves this network. */
  remove(peerId: string): void {
    if (this.#peers.delete(peerId)) this.emit('localLost', peerId);
  }

  advertise(routes: RemoteRoute[]): void {
    for (const route of routes) this.#advertised.set(route.peerId, route);
  }

  withdraw(peerIds: string[]): void {
    for (const peerId of peerIds) this.#advertised.delete(peerId);
  }

  /** The remote peers the federation asked this network to advertise. */
  advertised(): RemoteRoute[] {
    return [...this.#advertised.values()];
  }
}
