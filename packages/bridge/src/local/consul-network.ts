import { EventEmitter } from 'node:events';
import {
  backoffDelay,
  ConsulReader,
  ConsulRelayEntries,
  type DirectoryPeer,
  type RelayAccess,
} from '@p2p-messenger/discovery';
import { identify } from '@p2p-messenger/peer';
import type { PeerIdentity } from '@p2p-messenger/proto';
import type { Logger } from 'pino';
import type { LocalPeerLocation } from '../relay/local-egress.js';
import type { RemoteRoute } from '../relay-seam.js';
import type { LocalNetworkEvents } from './local-network.js';
import type { LocatingNetwork } from './locating-network.js';

export interface ConsulNetworkInit {
  /** The Consul agent: "host:port" or "http(s)://host:port". */
  agent: string;
  /** The peers' service (a pool's, `p2pm-peer-<pool>`); default p2pm-peer. */
  serviceName?: string;
  /** The KV prefix of the peers that may be seen (a pool's claimed peers); default: every peer. */
  visibleKeys?: string;
  /** The bridge, as this network's peers reach it: its id, address and relay ports. */
  access: RelayAccess;
  /** The relay entries' check TTL (passed every third of it) and how long Consul keeps them failing. */
  ttlMs?: number;
  reapAfterMs?: number;
  watchWaitMs?: number;
  retry?: { minDelayMs?: number; maxDelayMs?: number };
  identifyTimeoutMs?: number;
  log: Logger;
}

const IDENTIFY_RETRY = { minDelayMs: 500, maxDelayMs: 30_000 };

/**
 * A cloud network as a bridge sees it: its peers are the passing instances of their Consul
 * service (each one's signed record asked with Identify where it is registered), and the peers
 * of other networks are registered in that service as reachable through the bridge, with a
 * check the bridge keeps passing, deregistered when withdrawn and when the bridge stops.
 */
export class ConsulNetwork extends EventEmitter<LocalNetworkEvents> implements LocatingNetwork {
  readonly #init: ConsulNetworkInit;
  readonly #log: Logger;
  readonly #reader: ConsulReader;
  readonly #entries: ConsulRelayEntries;
  readonly #records = new Map<string, PeerIdentity>();
  /** Peers' own registrations (never relay entries), as last listed. */
  readonly #listed = new Map<string, DirectoryPeer>();
  readonly #retries = new Map<string, { attempt: number; timer: NodeJS.Timeout }>();
  #running = false;

  constructor(init: ConsulNetworkInit) {
    super();
    this.#init = init;
    this.#log = init.log.child({ component: 'consul-network' });
    const common = {
      agent: init.agent,
      ...(init.serviceName === undefined ? {} : { serviceName: init.serviceName }),
      ...(init.retry === undefined ? {} : { retry: init.retry }),
      log: this.#log,
    };
    this.#reader = new ConsulReader({
      ...common,
      ...(init.visibleKeys === undefined ? {} : { visibleKeys: init.visibleKeys }),
      ...(init.watchWaitMs === undefined ? {} : { watchWaitMs: init.watchWaitMs }),
    });
    this.#entries = new ConsulRelayEntries({
      ...common,
      access: init.access,
      ...(init.ttlMs === undefined ? {} : { ttlMs: init.ttlMs }),
      ...(init.reapAfterMs === undefined ? {} : { reapAfterMs: init.reapAfterMs }),
    });
  }

  /** The relay entries (which the agent holds, as far as the bridge knows). */
  get entries(): ConsulRelayEntries {
    return this.#entries;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#reader.on('found', this.#onListed);
    this.#reader.on('updated', this.#onListed);
    this.#reader.on('lost', this.#onLost);
    await Promise.all([this.#reader.start(), this.#entries.start()]);
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#reader.off('found', this.#onListed);
    this.#reader.off('updated', this.#onListed);
    this.#reader.off('lost', this.#onLost);
    for (const retry of this.#retries.values()) clearTimeout(retry.timer);
    this.#retries.clear();
    await Promise.all([this.#reader.stop(), this.#entries.stop()]);
    this.#listed.clear();
  }

  peers(): PeerIdentity[] {
    return [...this.#records.values()];
  }

  /** Where Consul has a peer (its own registration), at its own ports. */
  locate(peerId: string): LocalPeerLocation | null {
    const listed = this.#listed.get(peerId);
    if (!listed || !this.#records.has(peerId)) return null;
    return { hosts: listed.addresses, greetingPort: listed.greetingPort, securePort: listed.securePort };
  }

  advertise(routes: RemoteRoute[]): void {
    // A peer of ours is never listed as one of another network (the route table prefers it anyway).
    this.#entries.put(
      routes
        .filter((route) => !this.#records.has(route.peerId))
        .map(({ peerId, name, hops, record }) => ({
          peerId,
          name,
          hops,
          greetingPort: record.greetingPort,
          securePort: record.securePort,
          protocolVersion: record.protocolVersion,
        })),
    );
  }

  withdraw(peerIds: string[]): void {
    this.#entries.remove(peerIds);
  }

  readonly #onListed = (peer: DirectoryPeer) => {
    // Only peers registered by themselves: peers of other networks come from links, not from bridges' entries.
    if (peer.addresses.length === 0) {
      if (this.#listed.has(peer.id)) this.#onLost(peer);
      return;
    }
    const before = this.#listed.get(peer.id);
    this.#listed.set(peer.id, peer);
    const moved = before !== undefined && !sameLocation(before, peer);
    if ((!this.#records.has(peer.id) && !this.#retries.has(peer.id)) || moved) void this.#learn(peer.id);
  };

  readonly #onLost = (peer: DirectoryPeer) => {
    this.#listed.delete(peer.id);
    this.#cancelRetry(peer.id);
    if (this.#records.delete(peer.id)) this.emit('localLost', peer.id);
  };

  /** Asks a listed peer for its signed record, where it registered; again later if it does not answer yet. */
  async #learn(peerId: string): Promise<void> {
    const listed = this.#listed.get(peerId);
    if (!listed) return;
    this.#cancelRetry(peerId, true);
    for (const host of listed.addresses) {
      try {
        const record = await identify(`${host.includes(':') ? `[${host}]` : host}:${listed.greetingPort}`, peerId, {
          timeoutMs: this.#init.identifyTimeoutMs ?? 5_000,
        });
        if (!this.#running || !this.#stillAt(peerId, listed)) return;
        this.#retries.delete(peerId);
        const known = this.#records.get(peerId);
        if (known && known.issuedAtMs >= record.issuedAtMs) return;
        this.#records.set(peerId, record);
        this.emit(known ? 'localUpdated' : 'localFound', record);
        return;
      } catch (err) {
        this.#log.debug({ err, peerId, host }, 'could not get the record of a peer; asking again later');
      }
    }
    if (this.#running && this.#stillAt(peerId, listed)) this.#retryLater(peerId);
  }

  #stillAt(peerId: string, listed: DirectoryPeer): boolean {
    const now = this.#listed.get(peerId);
    return now !== undefined && sameLocation(now, listed);
  }

  #retryLater(peerId: string): void {
    const attempt = this.#retries.get(peerId)?.attempt ?? 0;
    const timer = setTimeout(() => void this.#learn(peerId), backoffDelay(attempt, IDENTIFY_RETRY));
    timer.unref();
    this.#retries.set(peerId, { attempt: attempt + 1, timer });
  }

  /** Clears a pending retry; `keepCount` keeps its attempt number for the next backoff. */
  #cancelRetry(peerId: string, keepCount = false): void {
    const retry = this.#retries.get(peerId);
    if (!retry) return;
    clearTimeout(retry.timer);
    if (!keepCount) this.#retries.delete(peerId);
  }
}

function sameLocation(a: DirectoryPeer, b: DirectoryPeer): boolean {
  return (
    a.addresses.join() === b.addresses.join() && a.greetingPort === b.greetingPort && a.securePort === b.securePort
  );
}
