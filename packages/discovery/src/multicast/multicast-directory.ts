import type { RemoteInfo } from 'node:dgram';
import { type Announcement, AnnouncementKind } from '@p2p-messenger/proto';
import { type Logger, pino } from 'pino';
import { DirectoryBase, type LostReason } from '../directory.js';
import { DiscoveryConfigError } from '../errors.js';
import type { AnnouncementSigner, LocalPeerInfo } from '../host.js';
import { type DropReason, decodeAnnouncement, signingInput } from './announcement-codec.js';
import { HeardPeers } from './heard-peers.js';
import type { IpFamily } from './interfaces.js';
import { multicastListing } from './listing.js';
import { MulticastChannels, type Outgoing } from './multicast-channels.js';
import { OutgoingAnnouncements } from './outgoing-announcements.js';
import { type HeardDatagram, RecentlyHeard } from './recently-heard.js';
import { RelayAnnouncer, type RelaySource } from './relay-announcer.js';
import { type IgnoredEntry, RelayRoutes } from './relay-routes.js';

export interface MulticastOptions {
  self: LocalPeerInfo;
  signer: AnnouncementSigner;
  families?: readonly IpFamily[];
  ipv4Group?: string;
  ipv6Group?: string;
  port?: number;
  /** Time between announcements (each family, each interface). */
  intervalMs?: number;
  /** A peer not heard for this long is lost. */
  expiryMs?: number;
  /** Interface names; default: every non-loopback interface with an address of the family. */
  interfaces?: readonly string[];
  /**
   * Set when the directory speaks for a bridge (`self` is the bridge): it announces no hello
   * or goodbye of its own but the peers the source lists, as KIND_RELAYED every interval and
   * at once after `relayedChanged()`, KIND_WITHDRAWN for those that left the list, and a
   * withdrawal of all at stop. It still lists the LAN's own peers (from their hellos) and
   * ignores other bridges' relayed announcements: a bridge learns remote peers from its links.
   */
  relay?: RelaySource;
  log?: Logger;
}

export const MULTICAST_DEFAULTS = {
  ipv4Group: '239.255.80.77',
  // Site scope, not link scope: the kernel then sends from a global (or ULA) address, which
  // peers can dial; link-local sources need an interface scope that gRPC cannot dial.
  // The hop limit of 1 keeps announcements on the link all the same.
  ipv6Group: 'ff05::5032:504d',
  port: 47_474,
  intervalMs: 2_000,
  expiryIntervals: 3.5,
} as const;

/** Counters of what arrived and what was made of it. */
export interface MulticastStats {
  sent: number;
  received: number;
  accepted: number;
  /**
   * `link-local`: from an IPv6 link-local address, which peers cannot dial (no interface scope
   * in gRPC). `relayed-to-bridge`: another bridge's relayed announcement, heard by a bridge.
   */
  dropped: Record<DropReason | 'own' | 'incompatible' | 'unverified' | 'link-local' | 'relayed-to-bridge', number>;
  /** Entries of bridges' relayed_peers left out: the bridge's own id, ours, or malformed. */
  ignoredRelayedEntries: Record<IgnoredEntry, number>;
}

/**
 * Newcomers ask to be answered early; answers wait a little, spread, so they do not collide.
 * Spread over a second or so: every peer that hears a newcomer greets it at once (its key
 * came with the hello), which introduces the peer; an answer heard before that greeting
 * made the newcomer greet back, a second greeting each, all in the newcomer's first second.
 */
const EARLY_ANSWER_MAX_DELAY_MS = 1_200;
const FIRST_REPEAT_MS = 300;
/** A bridge's changes wait this long for more of them, so that a burst goes out as one send. */
const RELAY_CHANGE_DELAY_MS = 20;

/**
 * Finds peers on the local network by UDP multicast: signed announcements at start and every
 * interval, a goodbye at stop, expiry of peers not heard for a while, and routes to peers of
 * other networks that bridges on the LAN announce. Everything heard is checked before it
 * counts: garbage, other versions, replays and forgeries are dropped and counted.
 */
export class MulticastDirectory extends DirectoryBase {
  readonly source = 'multicast' as const;
  readonly #options: MulticastOptions;
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #expiryMs: number;
  readonly #heard = new HeardPeers();
  readonly #routes = new RelayRoutes();
  readonly #recentlyHeard = new RecentlyHeard();
  readonly #speaksForBridge: boolean;
  readonly #outgoing: OutgoingAnnouncements;
  /** Our addresses, as our own datagrams came back from them -> when. */
  readonly #selfAddresses = new Map<string, number>();
  readonly #channels: MulticastChannels;
  #timers = new Set<NodeJS.Timeout>();
  #earlyAnswer: NodeJS.Timeout | null = null;
  #relayChange: NodeJS.Timeout | null = null;
  /** Newcomers waiting for an early answer (addresses). */
  readonly #askers = new Set<string>();
  #running = false;
  /** Verification in progress per peer: announcements of one peer are handled in order. */
  readonly #verifying = new Map<string, Promise<void>>();
  readonly #stats: MulticastStats = {
    sent: 0,
    received: 0,
    accepted: 0,
    dropped: {
      garbage: 0,
      'unknown-version': 0,
      forged: 0,
      stale: 0,
      oversized: 0,
      own: 0,
      incompatible: 0,
      unverified: 0,
      'link-local': 0,
      'relayed-to-bridge': 0,
    },
    ignoredRelayedEntries: { 'bridge-itself': 0, own: 0, malformed: 0 },
  };

  constructor(options: MulticastOptions) {
    super();
    this.#options = options;
    this.#log = (options.log ?? pino({ level: 'silent' })).child({ directory: 'multicast' });
    this.#intervalMs = options.intervalMs ?? MULTICAST_DEFAULTS.intervalMs;
    this.#expiryMs = options.expiryMs ?? Math.round(this.#intervalMs * MULTICAST_DEFAULTS.expiryIntervals);
    if (this.#intervalMs < 50) throw new DiscoveryConfigError('the multicast interval must be at least 50 ms');
    if (this.#expiryMs <= this.#intervalMs) {
      throw new DiscoveryConfigError('the multicast expiry must be longer than the interval (a few intervals)');
    }
    this.#speaksForBridge = !!options.relay;
    const relay = options.relay ? new RelayAnnouncer(options.self.id, options.relay, this.#log) : null;
    this.#outgoing = new OutgoingAnnouncements(options.self, options.signer, relay);
    this.#channels = new MulticastChannels(
      {
        families: options.families ?? ['ipv4', 'ipv6'],
        ipv4Group: options.ipv4Group ?? MULTICAST_DEFAULTS.ipv4Group,
        ipv6Group: options.ipv6Group ?? MULTICAST_DEFAULTS.ipv6Group,
        port: options.port ?? MULTICAST_DEFAULTS.port,
        ...(options.interfaces ? { interfaces: options.interfaces } : {}),
      },
      this.#log,
    );
  }

  stats(): MulticastStats {
    return {
      ...this.#stats,
      sent: this.#channels.sent,
      dropped: { ...this.#stats.dropped },
      ignoredRelayedEntries: { ...this.#stats.ignoredRelayedEntries },
    };
  }

  /** Addresses this peer was heard at in its own announcements, freshest first. */
  selfAddresses(): string[] {
    return [...this.#selfAddresses].sort((a, b) => b[1] - a[1]).map(([address]) => address);
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.markStarted();
    await this.#channels.open((datagram, from) => this.#onDatagram(datagram, from));
    this.#running = true;
    await this.#announce(true);
    this.#after(FIRST_REPEAT_MS, () => this.#announce(true));
    this.#scheduleAnnouncements();
    this.#scheduleSweep();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const timer of [this.#earlyAnswer, this.#relayChange]) if (timer) clearTimeout(timer);
    this.#earlyAnswer = null;
    this.#relayChange = null;
    this.#askers.clear();
    await this.#channels
      .send(() => this.#outgoing.farewell().map(toGroup))
      .catch((err: unknown) => this.#log.warn({ err }, 'could not send the goodbye'));
    await this.#channels.close();
    await Promise.allSettled(this.#verifying.values());
    this.#heard.clear();
    this.#routes.clear();
    this.#recentlyHeard.clear();
    this.markStopped();
  }

  /**
   * For a directory that speaks for a bridge: its source's list changed. New and changed
   * entries are announced, and those gone withdrawn, at once (a burst of changes as one).
   */
  relayedChanged(): void {
    if (!this.#speaksForBridge) {
      throw new DiscoveryConfigError('relayedChanged() is for a directory that speaks for a bridge (the relay option)');
    }
    if (!this.#running || this.#relayChange) return;
    this.#relayChange = setTimeout(() => {
      this.#relayChange = null;
      void this.#channels
        .send(() => this.#outgoing.relayChanges().map(toGroup))
        .catch((err: unknown) => this.#log.warn({ err }, 'could not announce relayed peers'));
    }, RELAY_CHANGE_DELAY_MS);
  }

  /** A hello, or for a bridge its whole list. */
  async #announce(wantsReply: boolean): Promise<void> {
    if (!this.#running) return;
    await this.#channels
      .send(() => this.#outgoing.presence(wantsReply).map(toGroup))
      .catch((err: unknown) => this.#log.warn({ err }, 'could not send an announcement'));
  }

  #after(delayMs: number, action: () => Promise<void> | void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void action();
    }, delayMs);
    this.#timers.add(timer);
  }

  #scheduleAnnouncements(): void {
    // ±10% so that peers started together do not stay in step.
    const delay = this.#intervalMs * (0.9 + Math.random() * 0.2);
    this.#after(delay, async () => {
      await this.#announce(false);
      if (this.#running) this.#scheduleAnnouncements();
    });
  }

  #scheduleSweep(): void {
    this.#after(Math.max(25, Math.min(this.#intervalMs / 2, this.#expiryMs / 4)), () => {
      this.#sweep(Date.now());
      if (this.#running) this.#scheduleSweep();
    });
  }

  #sweep(now: number): void {
    const cutoff = now - this.#expiryMs;
    const changed = new Set(this.#heard.expire(cutoff).map(({ peerId }) => peerId));
    for (const peerId of this.#routes.expire(cutoff)) changed.add(peerId);
    for (const peerId of changed) this.#publish(peerId, 'expired');
    for (const [address, at] of this.#selfAddresses) if (at < cutoff) this.#selfAddresses.delete(address);
  }

  #onDatagram(datagram: Buffer, from: RemoteInfo): void {
    this.#stats.received++;
    const heard = this.#recentlyHeard.get(datagram) ?? this.#decode(datagram, from);
    if (!heard) return;
    const { announcement } = heard;
    if (isLinkLocal(from.address)) {
      this.#stats.dropped['link-local']++;
      return;
    }
    if (announcement.peerId === this.#options.self.id) {
      if (this.#outgoing.recentlySent.has(datagram)) {
        this.#stats.dropped.own++;
        this.#selfAddresses.set(from.address, Date.now());
      } else {
        this.#stats.dropped.forged++;
        this.#log.warn({ from: from.address }, 'someone announced our own id; dropped');
      }
      return;
    }
    if (announcement.protocolVersion !== this.#options.self.protocolVersion) {
      this.#stats.dropped.incompatible++;
      return;
    }
    if (this.#speaksForBridge && isFromBridge(announcement)) {
      this.#stats.dropped['relayed-to-bridge']++;
      return;
    }
    if (!this.#heard.couldBeNews(announcement, from.address)) {
      this.#stats.dropped.stale++;
      return;
    }
    const previous = this.#verifying.get(announcement.peerId) ?? Promise.resolve();
    const next = previous
      .then(() => this.#verifyAndApply(heard, from.address))
      .catch((err: unknown) => this.#log.warn({ err }, 'failed to handle an announcement'))
      .finally(() => {
        if (this.#verifying.get(announcement.peerId) === next) this.#verifying.delete(announcement.peerId);
      });
    this.#verifying.set(announcement.peerId, next);
  }

  #decode(datagram: Buffer, from: RemoteInfo): HeardDatagram | null {
    const decoded = decodeAnnouncement(datagram);
    if (decoded.ok) return this.#recentlyHeard.add({ datagram, ...decoded, genuine: false });
    this.#stats.dropped[decoded.reason]++;
    this.#log.debug({ from: from.address, reason: decoded.reason, detail: decoded.detail }, 'datagram dropped');
    return null;
  }

  async #verifyAndApply(heard: HeardDatagram, address: string) {
    const { announcement } = heard;
    // Re-checked: an announcement handled while this one waited may have made it stale.
    if (!this.#running || !this.#heard.couldBeNews(announcement, address)) {
      this.#stats.dropped.stale++;
      return;
    }
    const contact = { host: address, port: announcement.greetingPort };
    let genuine = heard.genuine;
    try {
      genuine ||= await this.#options.signer.verify(
        announcement.peerId,
        signingInput(heard.signed),
        heard.signature,
        contact,
        announcement.signingKey,
      );
    } catch (err) {
      this.#stats.dropped.unverified++;
      this.#log.debug({ from: address, claimedPeerId: announcement.peerId, err }, 'announcement not verifiable now');
      return;
    }
    if (!this.#running) return;
    if (!genuine) {
      this.#stats.dropped.forged++;
      this.#log.warn({ from: address, claimedPeerId: announcement.peerId }, 'forged announcement dropped');
      return;
    }
    heard.genuine = true;
    this.#stats.accepted++;
    this.#apply(announcement, address);
    if (announcement.wantsReply) this.#answerEarly(address);
  }

  #apply(announcement: Announcement, address: string): void {
    const selfId = this.#options.self.id;
    if (announcement.kind === AnnouncementKind.KIND_GOODBYE) {
      this.#heard.goodbye(announcement, address);
      this.#log.info({ remotePeerId: announcement.peerId }, 'peer said goodbye');
      this.#publish(announcement.peerId, 'goodbye');
    } else if (isFromBridge(announcement)) {
      // The bridge is no peer: only its timestamp is kept, against replays.
      this.#heard.noteAccepted(announcement, address);
      const outcome =
        announcement.kind === AnnouncementKind.KIND_RELAYED
          ? this.#routes.relayed(announcement, address, Date.now(), selfId)
          : this.#routes.withdrawn(announcement, selfId);
      for (const problem of outcome.ignored) this.#stats.ignoredRelayedEntries[problem]++;
      for (const peerId of outcome.touched) this.#publish(peerId, 'removed');
    } else {
      this.#heard.hello(announcement, address, Date.now());
      this.#publish(announcement.peerId, 'removed');
    }
  }

  /** Lists a peer as heard now, directly and through bridges; `reason` says why if neither is left. */
  #publish(peerId: string, reason: LostReason): void {
    const listing = multicastListing(peerId, this.#heard.get(peerId), this.#routes.get(peerId));
    if (listing) {
      this.put(listing);
      return;
    }
    if (this.peer(peerId)) this.#log.info({ remotePeerId: peerId, reason }, 'peer lost');
    this.remove(peerId, reason);
  }

  /**
   * A newcomer asked who is there: answer it alone (unicast), soon and spread out. A multicast
   * answer from everyone would reach everyone, N times N datagrams for one newcomer.
   */
  #answerEarly(address: string): void {
    if (!this.#running) return;
    this.#askers.add(address);
    if (this.#earlyAnswer) return;
    this.#earlyAnswer = setTimeout(() => {
      this.#earlyAnswer = null;
      const askers = [...this.#askers];
      this.#askers.clear();
      void this.#answer(askers).catch((err: unknown) => this.#log.warn({ err }, 'could not answer a newcomer'));
    }, Math.random() * EARLY_ANSWER_MAX_DELAY_MS);
  }

  async #answer(askers: string[]): Promise<void> {
    if (!this.#running) return;
    // A bridge answers with its whole list, so that a newcomer learns remote peers at once.
    await this.#channels.send(() => {
      const datagrams = this.#outgoing.answer();
      return askers.flatMap((to) => datagrams.map((datagram): Outgoing => ({ datagram, to })));
    });
  }
}

function toGroup(datagram: Buffer): Outgoing {
  return { datagram, to: 'group' };
}

function isFromBridge(announcement: Announcement): boolean {
  return announcement.kind === AnnouncementKind.KIND_RELAYED || announcement.kind === AnnouncementKind.KIND_WITHDRAWN;
}

function isLinkLocal(address: string): boolean {
  return /^fe[89ab]/i.test(address);
}
