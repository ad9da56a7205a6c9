import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { type Announcement, AnnouncementKind } from '@p2p-messenger/proto';
import { type Logger, pino } from 'pino';
import { DirectoryBase, type DirectoryPeer } from '../directory.js';
import { DiscoveryConfigError, DiscoveryStartError } from '../errors.js';
import type { AnnouncementSigner, LocalPeerInfo } from '../host.js';
import { type DropReason, decodeAnnouncement, encodeAnnouncement, signingInput } from './announcement-codec.js';
import { HeardPeers } from './heard-peers.js';
import { type IpFamily, type MulticastInterface, multicastInterfaces } from './interfaces.js';

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
  /** `link-local`: from an IPv6 link-local address, which peers cannot dial (no interface scope in gRPC). */
  dropped: Record<DropReason | 'own' | 'incompatible' | 'unverified' | 'link-local', number>;
}

interface Channel {
  family: IpFamily;
  group: string;
  socket: Socket;
  interfaces: MulticastInterface[];
}

/** Newcomers ask to be answered early; answers wait a little, spread, so they do not collide. */
const EARLY_ANSWER_MAX_DELAY_MS = 400;
const FIRST_REPEAT_MS = 300;

/**
 * Finds peers on the local network by UDP multicast: signed announcements at start and every
 * interval, a goodbye at stop, expiry of peers not heard for a while. Everything heard is
 * checked before it counts: garbage, other versions, replays and forgeries are dropped and
 * counted.
 */
export class MulticastDirectory extends DirectoryBase {
  readonly source = 'multicast' as const;
  readonly #options: MulticastOptions;
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #expiryMs: number;
  readonly #heard = new HeardPeers();
  readonly #selfAddresses = new Map<string, number>();
  /** Our own recent datagrams: what we hear back of them teaches us our addresses. */
  readonly #recentlySent: Buffer[] = [];
  #channels: Channel[] = [];
  #timers = new Set<NodeJS.Timeout>();
  #earlyAnswer: NodeJS.Timeout | null = null;
  /** Newcomers waiting for an early answer: address -> family. */
  readonly #askers = new Map<string, IpFamily>();
  #lastIssuedMs = 0;
  /** Sends run one after another: each sets the socket's outgoing interface. */
  #sending: Promise<void> = Promise.resolve();
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
    },
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
  }

  stats(): MulticastStats {
    return { ...this.#stats, dropped: { ...this.#stats.dropped } };
  }

  /** Addresses this peer was heard at in its own announcements, freshest first. */
  selfAddresses(): string[] {
    return [...this.#selfAddresses].sort((a, b) => b[1] - a[1]).map(([address]) => address);
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.markStarted();
    const families = this.#options.families ?? ['ipv4', 'ipv6'];
    for (const family of families) {
      const interfaces = multicastInterfaces(family, this.#options.interfaces);
      if (interfaces.length === 0) {
        this.#log.info({ family }, 'no interface for this family; not announcing on it');
        continue;
      }
      const channel = await this.#openChannel(family, interfaces);
      if (channel) this.#channels.push(channel);
    }
    if (this.#channels.length === 0) {
      await this.#closeChannels();
      throw new DiscoveryStartError(
        'no network interface can carry multicast (none is up with an address, or none could join the group); ' +
          'name one with --multicast-interface, or turn multicast discovery off',
      );
    }
    this.#running = true;
    await this.#announce(AnnouncementKind.KIND_HELLO, true);
    this.#after(FIRST_REPEAT_MS, () => this.#announce(AnnouncementKind.KIND_HELLO, true));
    this.#scheduleHello();
    this.#scheduleSweep();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (this.#earlyAnswer) clearTimeout(this.#earlyAnswer);
    this.#earlyAnswer = null;
    this.#askers.clear();
    await this.#send(this.#datagram(AnnouncementKind.KIND_GOODBYE, false)).catch((err: unknown) =>
      this.#log.warn({ err }, 'could not send the goodbye'),
    );
    await this.#closeChannels();
    await Promise.allSettled(this.#verifying.values());
    this.#heard.clear();
    this.markStopped();
  }

  /** The family's socket, joined on the interfaces that can join; null if none can. */
  async #openChannel(family: IpFamily, interfaces: MulticastInterface[]): Promise<Channel | null> {
    const group =
      family === 'ipv4'
        ? (this.#options.ipv4Group ?? MULTICAST_DEFAULTS.ipv4Group)
        : (this.#options.ipv6Group ?? MULTICAST_DEFAULTS.ipv6Group);
    const socket = createSocket(
      family === 'ipv4' ? { type: 'udp4', reuseAddr: true } : { type: 'udp6', reuseAddr: true, ipv6Only: true },
    );
    const port = this.#options.port ?? MULTICAST_DEFAULTS.port;
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ port, address: family === 'ipv4' ? '0.0.0.0' : '::' }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      socket.setMulticastLoopback(true);
      // One hop: announcements stay on the local network.
      socket.setMulticastTTL(1);
    } catch (err) {
      socket.close();
      throw new DiscoveryStartError(
        `cannot listen for ${family} multicast on ${group} port ${port}: ${(err as Error).message}`,
      );
    }
    // An interface that cannot join (no multicast, an alias already joined) is left out
    // rather than failing the peer; with none left the family is not used.
    const joined = interfaces.filter((iface) => {
      try {
        socket.addMembership(group, iface.socketAddress);
        return true;
      } catch (err) {
        this.#log.warn({ family, interface: iface.name, err: (err as Error).message }, 'cannot join the group here');
        return false;
      }
    });
    if (joined.length === 0) {
      socket.close();
      return null;
    }
    socket.on('message', (datagram, from) => this.#onDatagram(datagram, from));
    socket.on('error', (err) => this.#log.warn({ err, family }, 'multicast socket error'));
    this.#log.info({ family, group, port, interfaces: joined.map((i) => i.name) }, 'multicast listening');
    return { family, group, socket, interfaces: joined };
  }

  async #closeChannels(): Promise<void> {
    const closing = this.#channels.map(
      (channel) => new Promise<void>((resolve) => channel.socket.close(() => resolve())),
    );
    this.#channels = [];
    await Promise.all(closing);
  }

  #datagram(kind: AnnouncementKind, wantsReply: boolean): Buffer {
    const { self, signer } = this.#options;
    this.#lastIssuedMs = Math.max(Date.now(), this.#lastIssuedMs + 1);
    const announcement: Announcement = {
      kind,
      peerId: self.id,
      name: self.name,
      greetingPort: self.greetingPort,
      securePort: self.securePort,
      protocolVersion: self.protocolVersion,
      issuedAtMs: this.#lastIssuedMs,
      knownPeerIds: kind === AnnouncementKind.KIND_HELLO ? self.knownPeerIds() : [],
      wantsReply,
      signingKey: Buffer.alloc(0),
      relayedPeers: [],
    };
    const datagram = encodeAnnouncement(announcement, (data) => signer.sign(data));
    this.#recentlySent.push(datagram);
    if (this.#recentlySent.length > 8) this.#recentlySent.shift();
    return datagram;
  }

  async #announce(kind: AnnouncementKind, wantsReply: boolean): Promise<void> {
    if (!this.#running) return;
    await this.#send(this.#datagram(kind, wantsReply)).catch((err: unknown) =>
      this.#log.warn({ err }, 'could not send an announcement'),
    );
  }

  #send(datagram: Buffer): Promise<void> {
    const sent = this.#sending.then(() => this.#sendNow(datagram));
    this.#sending = sent.catch(() => {});
    return sent;
  }

  /** Sends on every interface in turn: the outgoing interface is a socket option, so one at a time. */
  async #sendNow(datagram: Buffer): Promise<void> {
    const port = this.#options.port ?? MULTICAST_DEFAULTS.port;
    for (const channel of this.#channels) {
      for (const iface of channel.interfaces) {
        channel.socket.setMulticastInterface(iface.socketAddress);
        await new Promise<void>((resolve, reject) =>
          channel.socket.send(datagram, port, channel.group, (err) => (err ? reject(err) : resolve())),
        );
        this.#stats.sent++;
      }
    }
  }

  #after(delayMs: number, action: () => Promise<void> | void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void action();
    }, delayMs);
    this.#timers.add(timer);
  }

  #scheduleHello(): void {
    // ±10% so that peers started together do not stay in step.
    const delay = this.#intervalMs * (0.9 + Math.random() * 0.2);
    this.#after(delay, async () => {
      await this.#announce(AnnouncementKind.KIND_HELLO, false);
      if (this.#running) this.#scheduleHello();
    });
  }

  #scheduleSweep(): void {
    this.#after(Math.max(25, Math.min(this.#intervalMs / 2, this.#expiryMs / 4)), () => {
      this.#sweep(Date.now());
      if (this.#running) this.#scheduleSweep();
    });
  }

  #sweep(now: number): void {
    for (const { peerId, gone } of this.#heard.expire(now - this.#expiryMs)) {
      if (gone) {
        this.#log.info({ remotePeerId: peerId }, 'peer expired');
        this.remove(peerId, 'expired');
      } else this.#publish(peerId);
    }
    for (const [address, at] of this.#selfAddresses) if (at < now - this.#expiryMs) this.#selfAddresses.delete(address);
  }

  #onDatagram(datagram: Buffer, from: RemoteInfo): void {
    this.#stats.received++;
    const decoded = decodeAnnouncement(datagram);
    if (!decoded.ok) {
      this.#stats.dropped[decoded.reason]++;
      this.#log.debug({ from: from.address, reason: decoded.reason, detail: decoded.detail }, 'datagram dropped');
      return;
    }
    const { announcement } = decoded;
    if (isLinkLocal(from.address)) {
      this.#stats.dropped['link-local']++;
      return;
    }
    if (announcement.peerId === this.#options.self.id) {
      if (this.#recentlySent.some((sent) => sent.equals(datagram))) {
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
    if (!this.#heard.couldBeNews(announcement, from.address)) {
      this.#stats.dropped.stale++;
      return;
    }
    const previous = this.#verifying.get(announcement.peerId) ?? Promise.resolve();
    const next = previous
      .then(() => this.#verifyAndApply(announcement, decoded.signed, decoded.signature, from.address))
      .catch((err: unknown) => this.#log.warn({ err }, 'failed to handle an announcement'))
      .finally(() => {
        if (this.#verifying.get(announcement.peerId) === next) this.#verifying.delete(announcement.peerId);
      });
    this.#verifying.set(announcement.peerId, next);
  }

  async #verifyAndApply(announcement: Announcement, signed: Uint8Array, signature: Uint8Array, address: string) {
    // Re-checked: an announcement handled while this one waited may have made it stale.
    if (!this.#running || !this.#heard.couldBeNews(announcement, address)) {
      this.#stats.dropped.stale++;
      return;
    }
    const contact = { host: address, port: announcement.greetingPort };
    let genuine: boolean;
    try {
      genuine = await this.#options.signer.verify(announcement.peerId, signingInput(signed), signature, contact);
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
    this.#stats.accepted++;
    if (announcement.kind === AnnouncementKind.KIND_GOODBYE) {
      this.#heard.goodbye(announcement);
      this.#log.info({ remotePeerId: announcement.peerId }, 'peer said goodbye');
      this.remove(announcement.peerId, 'goodbye');
      return;
    }
    this.#heard.hello(announcement, address, Date.now());
    this.#publish(announcement.peerId);
    if (announcement.wantsReply) this.#answerEarly(address);
  }

  #publish(peerId: string): void {
    const heard = this.#heard.get(peerId);
    if (!heard) return;
    const { announcement: a } = heard;
    const peer: DirectoryPeer = {
      id: a.peerId,
      name: a.name,
      addresses: heard.addresses,
      greetingPort: a.greetingPort,
      securePort: a.securePort,
      protocolVersion: a.protocolVersion,
      knownPeerIds: a.knownPeerIds,
      sources: ['multicast'],
      lastSeenMs: heard.lastHeardMs,
    };
    this.put(peer);
  }

  /**
   * A newcomer asked who is there: answer it alone (unicast), soon and spread out. A multicast
   * answer from everyone would reach everyone, N times N datagrams for one newcomer.
   */
  #answerEarly(address: string): void {
    if (!this.#running) return;
    this.#askers.set(address, address.includes(':') ? 'ipv6' : 'ipv4');
    if (this.#earlyAnswer) return;
    this.#earlyAnswer = setTimeout(() => {
      this.#earlyAnswer = null;
      const askers = [...this.#askers];
      this.#askers.clear();
      void this.#answer(askers).catch((err: unknown) => this.#log.warn({ err }, 'could not answer a newcomer'));
    }, Math.random() * EARLY_ANSWER_MAX_DELAY_MS);
  }

  async #answer(askers: [string, IpFamily][]): Promise<void> {
    if (!this.#running) return;
    const datagram = this.#datagram(AnnouncementKind.KIND_HELLO, false);
    const port = this.#options.port ?? MULTICAST_DEFAULTS.port;
    for (const [address, family] of askers) {
      const channel = this.#channels.find((c) => c.family === family);
      if (!channel) continue;
      await new Promise<void>((resolve, reject) =>
        channel.socket.send(datagram, port, address, (err) => (err ? reject(err) : resolve())),
      );
      this.#stats.sent++;
    }
  }
}

function isLinkLocal(address: string): boolean {
  return /^fe[89ab]/i.test(address);
}
