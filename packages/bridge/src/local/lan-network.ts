import { EventEmitter } from 'node:events';
import { type Contact, type DirectoryPeer, MulticastDirectory, type MulticastOptions } from '@p2p-messenger/discovery';
import { identify, type LocalIdentity, PeerAnnouncementSigner } from '@p2p-messenger/peer';
import { type PeerIdentity, PROTOCOL_VERSION, type RelayedPeer } from '@p2p-messenger/proto';
import type { Logger } from 'pino';
import type { LocalPeerLocation } from '../relay/local-egress.js';
import type { RemoteRoute } from '../relay-seam.js';
import type { LocalNetworkEvents } from './local-network.js';
import type { LocatingNetwork } from './locating-network.js';

/** Multicast settings of the LAN side: which interfaces, groups, port and timing. */
export type LanMulticast = Omit<MulticastOptions, 'self' | 'signer' | 'relay' | 'log'>;

export interface LanNetworkInit {
  identity: LocalIdentity;
  /** The bridge's relay ports, where the LAN's peers reach peers of other networks. */
  greetingPort: number;
  securePort: number;
  multicast: LanMulticast;
  log: Logger;
}

const IDENTIFY_TIMEOUT_MS = 5_000;

/**
 * A LAN as a bridge sees it: its peers heard by multicast (each one's signed record asked
 * with Identify, at the address it was heard from), and the peers of other networks
 * announced as reachable through the bridge (KIND_RELAYED), withdrawn when they go.
 */
export class LanNetwork extends EventEmitter<LocalNetworkEvents> implements LocatingNetwork {
  readonly #log: Logger;
  readonly #directory: MulticastDirectory;
  readonly #records = new Map<string, PeerIdentity>();
  readonly #heardAt = new Map<string, DirectoryPeer>();
  readonly #relayed = new Map<string, RelayedPeer>();
  #running = false;

  constructor(init: LanNetworkInit) {
    super();
    this.#log = init.log.child({ component: 'lan-network' });
    const signer = new PeerAnnouncementSigner({
      identity: init.identity,
      knownKey: (id) => this.#records.get(id)?.signingKey as Buffer | undefined,
      fetchIdentity: (id, contact) => this.#identify(id, contact),
      learned: () => {},
    });
    this.#directory = new MulticastDirectory({
      ...init.multicast,
      self: {
        id: init.identity.id,
        name: 'bridge',
        greetingPort: init.greetingPort,
        securePort: init.securePort,
        protocolVersion: PROTOCOL_VERSION,
        fingerprint: init.identity.fingerprint,
        knownPeerIds: () => [],
      },
      signer,
      relay: { relayedPeers: () => [...this.#relayed.values()] },
      log: this.#log,
    });
  }

  /** The multicast directory (its stats: what was heard and dropped). */
  get directory(): MulticastDirectory {
    return this.#directory;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#directory.on('found', this.#onHeard);
    this.#directory.on('updated', this.#onHeard);
    this.#directory.on('lost', this.#onLost);
    await this.#directory.start();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#directory.off('found', this.#onHeard);
    this.#directory.off('updated', this.#onHeard);
    this.#directory.off('lost', this.#onLost);
    // Stopping sends a withdrawal of everything it relayed.
    await this.#directory.stop();
    this.#relayed.clear();
  }

  peers(): PeerIdentity[] {
    return [...this.#records.values()];
  }

  advertise(routes: RemoteRoute[]): void {
    for (const route of routes)
      this.#relayed.set(route.peerId, { id: route.peerId, name: route.name, hops: route.hops });
    if (routes.length > 0 && this.#running) this.#directory.relayedChanged();
  }

  withdraw(peerIds: string[]): void {
    const gone = peerIds.filter((id) => this.#relayed.delete(id));
    if (gone.length > 0 && this.#running) this.#directory.relayedChanged();
  }

  /** Where a LAN peer was heard (its announcements' source), at its own ports. */
  locate(peerId: string): LocalPeerLocation | null {
    const heard = this.#heardAt.get(peerId);
    if (!heard || heard.addresses.length === 0) return null;
    return { hosts: heard.addresses, greetingPort: heard.greetingPort, securePort: heard.securePort };
  }

  readonly #onHeard = (peer: DirectoryPeer) => {
    // Only the LAN's own peers: a bridge learns remote peers from its links, not from other bridges.
    if (peer.addresses.length === 0) return;
    this.#heardAt.set(peer.id, peer);
    void this.#learn(peer);
  };

  readonly #onLost = (peer: DirectoryPeer) => {
    this.#heardAt.delete(peer.id);
    if (this.#records.delete(peer.id)) this.emit('localLost', peer.id);
  };

  async #learn(peer: DirectoryPeer): Promise<void> {
    const known = this.#records.get(peer.id);
    for (const host of peer.addresses) {
      try {
        const record = await this.#identify(peer.id, { host, port: peer.greetingPort });
        if (!this.#running || !this.#heardAt.has(peer.id)) return;
        if (known && known.issuedAtMs >= record.issuedAtMs) return;
        this.#records.set(peer.id, record);
        this.emit(known ? 'localUpdated' : 'localFound', record);
        return;
      } catch (err) {
        this.#log.debug({ err, peerId: peer.id, host }, 'could not get the record of a LAN peer');
      }
    }
  }

  #identify(peerId: string, contact: Contact): Promise<PeerIdentity> {
    const host = contact.host.includes(':') ? `[${contact.host}]` : contact.host;
    return identify(`${host}:${contact.port}`, peerId, { timeoutMs: IDENTIFY_TIMEOUT_MS });
  }
}
