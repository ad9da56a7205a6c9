import { type Announcement, AnnouncementKind, type RelayedPeer } from '@p2p-messenger/proto';
import type { AnnouncementSigner, LocalPeerInfo } from '../host.js';
import { encodeAnnouncement } from './announcement-codec.js';
import { RecentlySent } from './recently-sent.js';
import type { RelayAnnouncer, RelayRound } from './relay-announcer.js';
import { encodeRelayedBatches } from './relayed-batches.js';

/**
 * The datagrams a directory sends, signed, each with a timestamp newer than the last: a
 * peer's hellos and goodbye, or for a directory that speaks for a bridge its relayed list.
 * Remembers them, so that the directory knows its own when it hears them back.
 */
export class OutgoingAnnouncements {
  readonly #self: LocalPeerInfo;
  readonly #signer: AnnouncementSigner;
  readonly #relay: RelayAnnouncer | null;
  readonly recentlySent = new RecentlySent();
  #lastIssuedMs = 0;

  constructor(self: LocalPeerInfo, signer: AnnouncementSigner, relay: RelayAnnouncer | null) {
    this.#self = self;
    this.#signer = signer;
    this.#relay = relay;
  }

  /** At start and every interval: a hello, or for a bridge its whole list. */
  presence(wantsReply: boolean): Buffer[] {
    if (this.#relay) return this.#relayRound(this.#relay.everything(), wantsReply);
    return [this.#hello(AnnouncementKind.KIND_HELLO, wantsReply)];
  }

  /** For a newcomer that asked: a hello, or for a bridge everything it advertises. */
  answer(): Buffer[] {
    if (this.#relay) return this.#relayed(AnnouncementKind.KIND_RELAYED, this.#relay.advertised(), false);
    return [this.#hello(AnnouncementKind.KIND_HELLO, false)];
  }

  /** A bridge's list changed: what is new or changed, and withdrawals of what left. */
  relayChanges(): Buffer[] {
    const round = this.#relay?.changes();
    if (!round || (round.relayed.length === 0 && round.withdrawn.length === 0)) return [];
    return this.#relayRound(round, false);
  }

  /** At stop: a goodbye, or for a bridge a withdrawal of everything it advertised. */
  farewell(): Buffer[] {
    if (this.#relay) {
      const all = this.#relay.withdrawAll();
      return all.length > 0 ? this.#relayed(AnnouncementKind.KIND_WITHDRAWN, all, false) : [];
    }
    return [this.#hello(AnnouncementKind.KIND_GOODBYE, false)];
  }

  #nextIssuedAt(): number {
    this.#lastIssuedMs = Math.max(Date.now(), this.#lastIssuedMs + 1);
    return this.#lastIssuedMs;
  }

  #sign = (data: Uint8Array): Uint8Array => this.#signer.sign(data);

  #base(kind: AnnouncementKind, wantsReply: boolean): Omit<Announcement, 'issuedAtMs' | 'relayedPeers'> {
    const self = this.#self;
    return {
      kind,
      peerId: self.id,
      name: self.name,
      greetingPort: self.greetingPort,
      securePort: self.securePort,
      protocolVersion: self.protocolVersion,
      knownPeerIds: kind === AnnouncementKind.KIND_HELLO ? self.knownPeerIds() : [],
      wantsReply,
      // Receivers check the signature with it at once (it must hash to the id): no round trip.
      signingKey: Buffer.from(this.#signer.signingKey ?? []),
    };
  }

  #hello(kind: AnnouncementKind, wantsReply: boolean): Buffer {
    const announcement = { ...this.#base(kind, wantsReply), issuedAtMs: this.#nextIssuedAt(), relayedPeers: [] };
    return this.recentlySent.add(encodeAnnouncement(announcement, this.#sign));
  }

  #relayed(kind: AnnouncementKind, entries: readonly RelayedPeer[], wantsReply: boolean): Buffer[] {
    return encodeRelayedBatches(this.#base(kind, wantsReply), entries, () => this.#nextIssuedAt(), this.#sign).map(
      (datagram) => this.recentlySent.add(datagram),
    );
  }

  /** Withdrawals first, then the entries: at least one datagram, the first asking for replies if so. */
  #relayRound(round: RelayRound, wantsReply: boolean): Buffer[] {
    const withdrawn =
      round.withdrawn.length > 0 ? this.#relayed(AnnouncementKind.KIND_WITHDRAWN, round.withdrawn, false) : [];
    const relayed =
      round.relayed.length > 0 || withdrawn.length === 0
        ? this.#relayed(AnnouncementKind.KIND_RELAYED, round.relayed, wantsReply)
        : [];
    return [...withdrawn, ...relayed];
  }
}
