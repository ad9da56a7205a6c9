import type { PeerIdentity } from '@p2p-messenger/proto';
import type { MessageStore } from '../store/message-store.js';
import type { StoredPeer } from '../store/records.js';
import { PairSealer } from '../sealing/pair-sealer.js';
import type { LocalIdentity } from './local-identity.js';
import { UnknownPeerError } from '../errors.js';

/** Told whenever a peer's certificate should be trusted for incoming TLS connections. */
export interface CertificateTrust {
  trust(peerId: string, certificateDer: Uint8Array): void;
}

const MAX_ADDRESSES = 8;

/**
 * The peers this peer knows, each checked against its id before it gets here: their keys,
 * certificates, addresses and the sealer for talking to them.
 */
export class PeerBook {
  readonly #identity: LocalIdentity;
  readonly #store: MessageStore;
  readonly #trust: CertificateTrust;
  readonly #sealers = new Map<string, { key: Buffer; sealer: PairSealer }>();

  constructor(identity: LocalIdentity, store: MessageStore, trust: CertificateTrust) {
    this.#identity = identity;
    this.#store = store;
    this.#trust = trust;
    for (const peer of store.listPeers()) trust.trust(peer.id, peer.certificate);
  }

  /**
   * Records a verified identity. `seenAt` are addresses it was seen at, tried first when
   * dialing it. Returns the stored peer.
   */
  learn(record: PeerIdentity, seenAt: readonly string[] = []): StoredPeer {
    const previous = this.#store.getPeer(record.id);
    const addresses = [...new Set([...seenAt, ...record.addresses, ...(previous?.addresses ?? [])])].slice(
      0,
      MAX_ADDRESSES,
    );
    this.#store.upsertPeer({
      id: record.id,
      name: record.name,
      signingKey: Buffer.from(record.signingKey),
      sealingKey: Buffer.from(record.sealingKey),
      certificate: Buffer.from(record.certificate),
      addresses,
      greetingPort: record.greetingPort,
      securePort: record.securePort,
      issuedAtMs: record.issuedAtMs,
    });
    const stored = this.#store.getPeer(record.id) as StoredPeer;
    this.#trust.trust(stored.id, stored.certificate);
    return stored;
  }

  get(peerId: string): StoredPeer | null {
    return this.#store.getPeer(peerId);
  }

  require(peerId: string): StoredPeer {
    const peer = this.get(peerId);
    if (!peer) throw new UnknownPeerError(`unknown peer ${peerId}: contact it first (its address, or discovery)`);
    return peer;
  }

  all(): StoredPeer[] {
    return this.#store.listPeers();
  }

  sealerFor(peerId: string): PairSealer {
    const peer = this.require(peerId);
    const cached = this.#sealers.get(peerId);
    if (cached?.key.equals(peer.sealingKey)) return cached.sealer;
    const sealer = new PairSealer(this.#identity.id, this.#identity.sealingKey, peer.id, peer.sealingKey);
    this.#sealers.set(peerId, { key: peer.sealingKey, sealer });
    return sealer;
  }
}
