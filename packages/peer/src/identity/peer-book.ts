import type { PeerIdentity } from '@p2p-messenger/proto';
import { UnknownPeerError } from '../errors.js';
import { PairSealer } from '../sealing/pair-sealer.js';
import type { MessageStore } from '../store/message-store.js';
import type { StoredPeer } from '../store/records.js';
import type { LocalIdentity } from './local-identity.js';

const MAX_ADDRESSES = 8;

/**
 * The peers this peer knows, each checked against its id before it gets here: their keys,
 * certificates, addresses and the sealer for talking to them.
 */
export class PeerBook {
  readonly #identity: LocalIdentity;
  readonly #store: MessageStore;
  readonly #sealers = new Map<string, { key: Buffer; sealer: PairSealer }>();
  /** Read on every send and every batch: kept in memory, written through to the store. */
  readonly #peers = new Map<string, StoredPeer>();

  constructor(identity: LocalIdentity, store: MessageStore) {
    this.#identity = identity;
    this.#store = store;
    for (const peer of store.listPeers()) this.#peers.set(peer.id, peer);
  }

  /**
   * Records a verified identity. `seenAt` are addresses it was seen at, tried first when
   * dialing it. Returns the stored peer.
   */
  learn(record: PeerIdentity, seenAt: readonly string[] = []): StoredPeer {
    const previous = this.get(record.id);
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
    this.#peers.set(stored.id, stored);
    return stored;
  }

  get(peerId: string): StoredPeer | null {
    return this.#peers.get(peerId) ?? null;
  }

  require(peerId: string): StoredPeer {
    const peer = this.get(peerId);
    if (!peer) throw new UnknownPeerError(`unknown peer ${peerId}: contact it first (its address, or discovery)`);
    return peer;
  }

  all(): StoredPeer[] {
    return [...this.#peers.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  /**
   * Puts addresses a directory lists for a known peer first (dialing tries them in order).
   * They need no check: a dial greets and proves the peer at whatever address it uses.
   */
  noteAddresses(peerId: string, addresses: readonly string[]): void {
    const peer = this.#peers.get(peerId);
    if (!peer) return;
    const merged = [...new Set([...addresses, ...peer.addresses])].slice(0, MAX_ADDRESSES);
    if (merged.join() === peer.addresses.join()) return;
    peer.addresses = merged;
    this.#store.setPeerAddresses(peerId, merged);
  }

  /** Notes that a peer was just seen (a session opened or closed). */
  touch(peerId: string, now = Date.now()): void {
    const peer = this.#peers.get(peerId);
    if (!peer) return;
    peer.lastSeenMs = now;
    this.#store.touchPeer(peerId, now);
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
