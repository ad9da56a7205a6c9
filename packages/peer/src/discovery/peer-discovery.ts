import {
  backoffDelay,
  CatalogHttpDirectory,
  ConsulDirectory,
  type Contact,
  type DirectoryPeer,
  type DirectorySource,
  type GreetedPeer,
  type LocalPeerInfo,
  MergedDirectory,
  MulticastDirectory,
  type PeerDirectory,
  type RelayRoute,
  StaticDirectory,
} from '@p2p-messenger/discovery';
import { type KnownPeer, type PeerIdentity, PROTOCOL_VERSION } from '@p2p-messenger/proto';
import type { Logger } from 'pino';
import { ConfigError } from '../errors.js';
import { withoutAddresses } from '../identity/identity-record.js';
import type { LocalIdentity } from '../identity/local-identity.js';
import type { PeerBook } from '../identity/peer-book.js';
import type { StoredPeer } from '../store/records.js';
import type { GreetResult } from '../transport/greeting.js';
import type { RouteBook } from '../transport/route-book.js';
import { parseHostPort } from '../util/address.js';
import type { CallOptions } from '../util/deadline.js';
import { PeerAnnouncementSigner } from './announcement-signer.js';
import type { DiscoverySettings } from './discovery-options.js';
import { Gossip } from './gossip.js';

/** What discovery needs from the running peer. */
export interface DiscoveryHost {
  identity: LocalIdentity;
  book: PeerBook;
  /** Where the directories' routes through bridges are kept for the dialer. */
  routes: RouteBook;
  log: Logger;
  name: string;
  greetingPort: number;
  securePort: number;
  advertisedAddresses: readonly string[];
  /** Greets host:port (expecting an id, if given) and returns the verified answer. */
  greetAt(host: string, port: number, expectedId?: string, options?: CallOptions): Promise<GreetResult>;
  /** Keeps a verified peer; `connect` opens and keeps a session with it now. */
  learn(record: PeerIdentity, seenAt: readonly string[], connect: boolean): StoredPeer;
  /** A directory found the peer again: dial it now. */
  hurry(peerId: string): void;
  /** Something a user sees about this peer changed. */
  changed(peerId: string): void;
  /** New addresses for our own identity record (learned from our own announcements). */
  ownAddresses(addresses: string[]): void;
}

/**
 * A peer a directory lists, whose key we hold (its announcement carried it: the id
 * self-certifies it), that no greeting has reached yet: shown at once, met in the background.
 */
export interface UnmetPeer {
  id: string;
  name: string;
  signingKey: Buffer;
  addresses: string[];
  lastSeenMs: number;
}

const SELF_ADDRESS_CHECK_MS = 1_000;
/** Unmet peers remembered once they left: enough for any LAN's list, bounded against floods. */
const MAX_SIGHTED = 1_024;
const KEY_FETCH_TIMEOUT_MS = 10_000;
/** A listed peer that did not answer its greeting (busy, or still starting) is greeted again. */
const REACH_RETRY = { minDelayMs: 500, maxDelayMs: 30_000 };

/**
 * The peer's directories in one view: it greets what they find (the key must match the id),
 * passes on and follows known peers (gossip), and says per peer which sources list it.
 */
export class PeerDiscovery {
  readonly #host: DiscoveryHost;
  readonly #merged: MergedDirectory;
  readonly #multicast: MulticastDirectory | null;
  readonly gossip: Gossip;
  #selfTimer: NodeJS.Timeout | null = null;
  /** Peers some directory has listed in this run: gossip is then no longer how we know them. */
  readonly #everListed = new Set<string>();
  #ownAddresses = '';
  /** Listed peers no greeting has reached yet, and the next try. */
  readonly #retries = new Map<string, { attempt: number; timer: NodeJS.Timeout }>();
  /** Greetings under way per peer; a listing that changes meanwhile is looked at again once it ends. */
  readonly #reaching = new Map<string, { again: boolean; done: Promise<void> }>();
  readonly #signer: PeerAnnouncementSigner;
  /** Unmet peers shown in this run, oldest first (see `unmet`). */
  readonly #sighted = new Map<string, UnmetPeer>();

  constructor(host: DiscoveryHost, settings: DiscoverySettings, staticPeers: readonly string[]) {
    this.#host = host;
    const log = host.log.child({ component: 'discovery' });
    this.gossip = new Gossip(
      async (address, port, id) => {
        await this.#greetAndLearn(address, port, id, false);
      },
      (id) => id === host.identity.id || !!host.book.get(id),
      log,
    );
    const self = this.#localInfo();
    const directories: PeerDirectory[] = [];
    if (staticPeers.length > 0) {
      directories.push(
        new StaticDirectory({ contacts: staticPeers.map(toContact), greet: (c) => this.#greetStatic(c), log }),
      );
    }
    const signer = new PeerAnnouncementSigner({
      identity: host.identity,
      knownKey: (id) => host.book.get(id)?.signingKey,
      // Longer than a dial's greeting: on a busy LAN a newcomer answers dozens of these at once,
      // and a fetch given up is only tried again at a later announcement.
      fetchIdentity: async (id, contact) =>
        (await host.greetAt(contact.host, contact.port, id, { timeoutMs: KEY_FETCH_TIMEOUT_MS })).identity,
      learned: (record, contact) => host.learn(record, [contact.host], false),
    });
    this.#signer = signer;
    this.#multicast = settings.multicast ? new MulticastDirectory({ ...settings.multicast, self, signer, log }) : null;
    if (this.#multicast) directories.push(this.#multicast);
    if (settings.consul) {
      const advertiseAddress = settings.consul.advertiseAddress ?? host.advertisedAddresses[0];
      if (!advertiseAddress) {
        throw new ConfigError('Consul discovery needs the address other peers reach this one at: --advertise HOST');
      }
      directories.push(new ConsulDirectory({ ...settings.consul, advertiseAddress, self, log }));
    }
    if (settings.catalog) {
      directories.push(new CatalogHttpDirectory({ ...settings.catalog, selfId: host.identity.id, log }));
    }
    directories.push(...(settings.directories ?? []));
    this.#merged = new MergedDirectory(directories);
    const reach = (peer: DirectoryPeer) =>
      void this.#reach(peer).catch((err: unknown) =>
        log.warn({ err, remotePeerId: peer.id }, 'could not reach a peer'),
      );
    this.#merged.on('found', reach);
    this.#merged.on('updated', reach);
    this.#merged.on('lost', (peer, reason) => {
      this.#cancelRetry(peer.id);
      host.routes.forget(peer.id);
      log.info({ remotePeerId: peer.id, reason }, 'peer left the directories');
      host.changed(peer.id);
    });
  }

  get multicast(): MulticastDirectory | null {
    return this.#multicast;
  }

  async start(): Promise<void> {
    await this.#merged.start();
    if (this.#multicast) {
      this.#selfTimer = setInterval(() => this.#checkOwnAddresses(), SELF_ADDRESS_CHECK_MS);
      this.#selfTimer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.#selfTimer) clearInterval(this.#selfTimer);
    for (const peerId of [...this.#retries.keys()]) this.#cancelRetry(peerId);
    this.gossip.stop();
    await this.#merged.stop();
  }

  /** Known peers that a greeting (either way) passed on. */
  heardOf(peers: readonly KnownPeer[]): void {
    this.gossip.heard(peers);
  }

  /**
   * The directories listing a peer now, and whether any does; 'gossip' for a peer met through
   * gossip that no directory has listed.
   */
  sourcesOf(peerId: string): { listed: boolean; sources: DirectorySource[] } {
    const listing = this.#merged.peer(peerId);
    if (listing) return { listed: true, sources: [...listing.sources] };
    const gossiped = this.gossip.learned.has(peerId) && !this.#everListed.has(peerId);
    return { listed: false, sources: gossiped ? ['gossip'] : [] };
  }

  /**
   * A peer we have not met yet whose key is known (see UnmetPeer): as listed now, or as last
   * listed in this run (it then shows offline, as a met peer would, rather than vanish).
   */
  unmet(peerId: string): UnmetPeer | null {
    if (this.#host.book.get(peerId)) {
      this.#sighted.delete(peerId);
      return null;
    }
    const listing = this.#merged.peer(peerId);
    const signingKey = this.#signer.keyOf(peerId);
    if (!listing || !signingKey) return this.#sighted.get(peerId) ?? null;
    const { id, name, addresses, lastSeenMs } = listing;
    const peer = { id, name, signingKey, addresses, lastSeenMs };
    this.#sighted.delete(peerId);
    this.#sighted.set(peerId, peer);
    if (this.#sighted.size > MAX_SIGHTED) this.#sighted.delete(this.#sighted.keys().next().value as string);
    return peer;
  }

  unmetPeers(): UnmetPeer[] {
    const ids = new Set([...this.#merged.peers().map((listing) => listing.id), ...this.#sighted.keys()]);
    return [...ids].map((id) => this.unmet(id)).filter((peer): peer is UnmetPeer => peer !== null);
  }

  /** Settles once the greeting under way to `peerId` (if any) has ended, so that it may be in the book. */
  async meet(peerId: string): Promise<void> {
    const listing = this.#merged.peer(peerId);
    // A greeting that failed leaves the peer unknown: the caller says so.
    await (this.#reaching.get(peerId)?.done ?? (listing ? this.#reach(listing) : undefined))?.catch(() => {});
  }

  /** One greeting per peer at a time: a listing updated meanwhile is reached again after it. */
  #reach(peer: DirectoryPeer): Promise<void> {
    const running = this.#reaching.get(peer.id);
    if (running) {
      running.again = true;
      return running.done;
    }
    const attempt = { again: false, done: Promise.resolve() };
    attempt.done = this.#reachOnce(peer).finally(() => {
      this.#reaching.delete(peer.id);
      const latest = attempt.again ? this.#merged.peer(peer.id) : undefined;
      if (latest) void this.#reach(latest).catch(() => this.#retryLater(peer.id));
    });
    this.#reaching.set(peer.id, attempt);
    return attempt.done;
  }

  async #reachOnce(peer: DirectoryPeer): Promise<void> {
    const host = this.#host;
    if (peer.id === host.identity.id) return;
    this.#everListed.add(peer.id);
    host.routes.set(peer.id, peer.relays);
    if (!host.book.get(peer.id)) {
      // Its verified announcement is enough to show it; the greeting that follows fetches the rest.
      host.changed(peer.id);
      // Multicast already proved it while checking the announcement; others are greeted here.
      for (const address of peer.addresses) {
        try {
          await this.#greetAndLearn(address, peer.greetingPort, peer.id, false);
          break;
        } catch {
          // Try the next address; the peer shows as unreachable if none answers.
        }
      }
    }
    if (!host.book.get(peer.id)) await this.#greetThroughBridges(peer.id, peer.relays ?? []);
    if (!host.book.get(peer.id)) {
      this.#retryLater(peer.id);
      return host.changed(peer.id);
    }
    this.#cancelRetry(peer.id);
    host.book.noteAddresses(peer.id, peer.addresses);
    host.hurry(peer.id);
    host.changed(peer.id);
  }

  /**
   * Greets a peer of another network through the bridges that list it, fewest hops first. The
   * answer is the peer's own record, checked against its id; the bridge's address is not kept
   * as the peer's, and a relayed greeting passes on no known peers.
   */
  async #greetThroughBridges(peerId: string, routes: readonly RelayRoute[]): Promise<void> {
    for (const route of routes) {
      try {
        const result = await this.#host.greetAt(route.host, route.greetingPort, peerId);
        // The addresses it signed are of its own network: dialing them first would only wait.
        this.#host.learn(withoutAddresses(result.identity), [], false);
        return;
      } catch {
        // The next bridge, if any; the peer shows as unreachable if none relays it.
      }
    }
  }

  /** Greets a listed peer that did not answer again later, with backoff, while it stays listed and unknown. */
  #retryLater(peerId: string): void {
    const attempt = this.#retries.get(peerId)?.attempt ?? 0;
    this.#cancelRetry(peerId);
    const tryAgain = () => {
      const listing = this.#merged.peer(peerId);
      if (!listing || this.#host.book.get(peerId)) return this.#cancelRetry(peerId);
      void this.#reach(listing).catch(() => this.#retryLater(peerId));
    };
    const timer = setTimeout(tryAgain, backoffDelay(attempt, REACH_RETRY));
    timer.unref();
    this.#retries.set(peerId, { attempt: attempt + 1, timer });
  }

  #cancelRetry(peerId: string): void {
    const retry = this.#retries.get(peerId);
    if (!retry) return;
    clearTimeout(retry.timer);
    this.#retries.delete(peerId);
  }

  /** Greets host:port, keeps the verified peer, and follows the peers it passed on. */
  async #greetAndLearn(
    host: string,
    port: number,
    expectedId: string | undefined,
    connect: boolean,
  ): Promise<{ record: StoredPeer; result: GreetResult }> {
    const result = await this.#host.greetAt(host, port, expectedId);
    const record = this.#host.learn(result.identity, [host], connect);
    this.heardOf(result.knownPeers);
    return { record, result };
  }

  async #greetStatic(contact: Contact): Promise<GreetedPeer> {
    // Peers the user named get a session at once, as before discovery existed.
    const { record, result } = await this.#greetAndLearn(contact.host, contact.port, undefined, true);
    return {
      id: record.id,
      name: record.name,
      greetingPort: record.greetingPort,
      securePort: record.securePort,
      protocolVersion: result.identity.protocolVersion,
      addresses: record.addresses,
      knownPeerIds: result.knownPeers.map((p) => p.id),
    };
  }

  #localInfo(): LocalPeerInfo {
    const host = this.#host;
    return {
      id: host.identity.id,
      name: host.name,
      greetingPort: host.greetingPort,
      securePort: host.securePort,
      protocolVersion: PROTOCOL_VERSION,
      fingerprint: host.identity.fingerprint,
      knownPeerIds: () =>
        host.book
          .all()
          .sort((a, b) => b.lastSeenMs - a.lastSeenMs)
          .map((peer) => peer.id),
    };
  }

  #checkOwnAddresses(): void {
    const addresses = this.#multicast?.selfAddresses() ?? [];
    const key = addresses.join();
    if (addresses.length === 0 || key === this.#ownAddresses) return;
    this.#ownAddresses = key;
    this.#host.ownAddresses(addresses);
  }
}

function toContact(address: string): Contact {
  const parsed = parseHostPort(address);
  if (!parsed) throw new ConfigError(`peer address ${JSON.stringify(address)} is not host:port`);
  return parsed;
}
