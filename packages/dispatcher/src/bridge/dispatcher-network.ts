import { EventEmitter } from 'node:events';
import type { LocalNetworkEvents, LocalPeerLocation, LocatingNetwork, RemoteRoute } from '@p2p-messenger/bridge';
import { type BackoffInit, backoffDelay } from '@p2p-messenger/discovery';
import { identify } from '@p2p-messenger/peer';
import type { PeerIdentity } from '@p2p-messenger/proto';
import type { Logger } from 'pino';
import type { Catalog, CatalogPeer } from '../catalog/catalog.js';
import type { BridgedPeers } from './bridged-peers.js';

/** Asks the peer at host:port for its signed record, which must hash to `peerId`. */
export type IdentifyPeer = (host: string, port: number, peerId: string) => Promise<PeerIdentity>;

export interface DispatcherNetworkInit {
  catalog: Catalog;
  bridged: BridgedPeers;
  log: Logger;
  identify?: IdentifyPeer;
  /** How long a peer that did not answer waits before it is asked again, at the same place. */
  identifyRetry?: BackoffInit;
}

const IDENTIFY_TIMEOUT_MS = 5_000;
const IDENTIFY_RETRY = { minDelayMs: 1_000, maxDelayMs: 30_000 };

const identifyOverGreeting: IdentifyPeer = (host, port, peerId) =>
  identify(`${host.includes(':') ? `[${host}]` : host}:${port}`, peerId, { timeoutMs: IDENTIFY_TIMEOUT_MS });

/**
 * The dispatcher's peers as its bridge sees them: the users' peers that are up (what users'
 * peers see of each other; spare peers are nobody's and stay unseen), each with the record
 * it signed, asked of it once it is listed. Peers of other networks go into BridgedPeers,
 * which the catalog lists to the users' peers.
 */
export class DispatcherNetwork extends EventEmitter<LocalNetworkEvents> implements LocatingNetwork {
  readonly #init: DispatcherNetworkInit;
  readonly #identify: IdentifyPeer;
  readonly #log: Logger;
  readonly #records = new Map<string, PeerIdentity>();
  /** Where the catalog has each peer whose record we hold. */
  readonly #locations = new Map<string, LocalPeerLocation>();
  /** Listed peers whose record could not be had yet: where they were asked, and when to ask again there. */
  readonly #retries = new Map<string, { attempt: number; timer: NodeJS.Timeout; where: string; dueAt: number }>();
  #syncing: Promise<void> | null = null;
  #again = false;
  #running = false;

  constructor(init: DispatcherNetworkInit) {
    super();
    this.#init = init;
    this.#identify = init.identify ?? identifyOverGreeting;
    this.#log = init.log.child({ component: 'bridge-network' });
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#init.catalog.on('changed', this.#onChanged);
    await this.#sync();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#init.catalog.off('changed', this.#onChanged);
    for (const retry of this.#retries.values()) clearTimeout(retry.timer);
    this.#retries.clear();
    await this.#syncing;
    this.#init.bridged.clear();
  }

  peers(): PeerIdentity[] {
    return [...this.#records.values()];
  }

  locate(peerId: string): LocalPeerLocation | null {
    return this.#locations.get(peerId) ?? null;
  }

  advertise(routes: RemoteRoute[]): void {
    // A peer of ours is never listed as one of another network (the route table prefers it).
    this.#init.bridged.put(routes.filter((route) => !this.#records.has(route.peerId)));
  }

  withdraw(peerIds: string[]): void {
    this.#init.bridged.remove(peerIds);
  }

  readonly #onChanged = () => void this.#sync();

  /** One pass at a time; a change during a pass makes one more. */
  #sync(): Promise<void> {
    if (this.#syncing) {
      this.#again = true;
      return this.#syncing;
    }
    this.#syncing = (async () => {
      do {
        this.#again = false;
        await this.#pass().catch((err: unknown) => this.#log.warn({ err }, 'could not read the catalog'));
      } while (this.#again && this.#running);
    })().finally(() => {
      this.#syncing = null;
    });
    return this.#syncing;
  }

  async #pass(): Promise<void> {
    const listed = (await this.#init.catalog.list()).filter((p) => p.state === 'claimed' && p.healthy);
    const ids = new Set(listed.map((p) => p.id));
    for (const id of [...this.#records.keys()]) {
      if (ids.has(id)) continue;
      this.#records.delete(id);
      this.#locations.delete(id);
      this.emit('localLost', id);
    }
    for (const id of [...this.#retries.keys()]) if (!ids.has(id)) this.#cancelRetry(id);
    // A peer backing off is asked again before its time only if the catalog moved it.
    const due = (p: CatalogPeer) => {
      const retry = this.#retries.get(p.id);
      return !retry || retry.where !== whereIs(p) || Date.now() >= retry.dueAt;
    };
    await Promise.all(listed.filter((p) => !this.#records.has(p.id) && due(p)).map((p) => this.#learn(p)));
  }

  async #learn(peer: CatalogPeer): Promise<void> {
    try {
      const record = await this.#identify(peer.address, peer.greetingPort, peer.id);
      if (!this.#running || this.#records.has(peer.id)) return;
      this.#cancelRetry(peer.id);
      this.#records.set(peer.id, record);
      this.#locations.set(peer.id, {
        hosts: [peer.address],
        greetingPort: peer.greetingPort,
        securePort: peer.securePort,
      });
      this.emit('localFound', record);
    } catch (err) {
      if (!this.#running) return;
      this.#log.debug({ err, peerId: peer.id }, 'could not get the record of a peer; asking again later');
      this.#retryLater(peer);
    }
  }

  #retryLater(peer: CatalogPeer): void {
    const attempt = this.#retries.get(peer.id)?.attempt ?? 0;
    this.#cancelRetry(peer.id);
    const delay = backoffDelay(attempt, this.#init.identifyRetry ?? IDENTIFY_RETRY);
    const timer = setTimeout(() => void this.#sync(), delay);
    timer.unref();
    this.#retries.set(peer.id, { attempt: attempt + 1, timer, where: whereIs(peer), dueAt: Date.now() + delay });
  }

  #cancelRetry(peerId: string): void {
    const retry = this.#retries.get(peerId);
    if (retry) clearTimeout(retry.timer);
    this.#retries.delete(peerId);
  }
}

function whereIs(peer: CatalogPeer): string {
  return `${peer.address}:${peer.greetingPort}`;
}
