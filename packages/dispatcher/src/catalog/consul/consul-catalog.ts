import { EventEmitter } from 'node:events';
import { type Logger, pino } from 'pino';
import type { Catalog, CatalogEvents, CatalogPeer, NewCatalogPeer } from '../catalog.js';
import { ConsulKv, type KvEntry, type KvWrite } from './consul-kv.js';
import { claimedKvPrefix, poolKvPrefix } from './peer-registration.js';
import { type HealthVerdicts, ServiceHealth } from './service-health.js';

/** A check-and-set that keeps losing to other writers this often gives up (they are making progress). */
const MAX_ATTEMPTS = 32;

interface Tree {
  peers: Map<string, { peer: CatalogPeer; index: number }>;
  owners: Map<string, { peerId: string; index: number }>;
  /** What Consul says of the peers' registrations; null when health is not followed. */
  health: HealthVerdicts | null;
}

export interface ConsulCatalogOptions {
  /** The agent, as an origin (http://consul:8500). */
  agent: string;
  /** This pool's part of the KV store: `p2p-messenger/pools/<pool>/`. */
  pool: string;
  /**
   * The Consul service the pool's peers register under (with health checks). Given, a peer
   * whose registration there fails its checks is unhealthy, whichever replica started it.
   */
  peerService?: string;
  /** How long a registered peer may take to show up in Consul before a warning says so; default 30 s. */
  registrationGraceMs?: number;
  log?: Logger;
}

/**
 * The catalog in Consul KV, shared by every dispatcher replica of a pool: a key per peer
 * (`peers/<id>`, its record as JSON) and a key per owner (`owners/<owner>`, their peer's
 * id). A claim is one transaction that creates the owner's key (only if absent) and rewrites
 * the peer's record (only if unchanged since read), so no peer goes to two users and no user
 * gets two peers, whichever replica they reach. Changes by any replica arrive through a
 * blocking query on the pool's tree. With `peerService`, a peer is also healthy only while
 * its own Consul registration passes its checks (a blocking query on the service's health):
 * every replica then sees a peer that died or hangs as such, not only the one that probes it.
 */
export class ConsulCatalog extends EventEmitter<CatalogEvents> implements Catalog {
  readonly #kv: ConsulKv;
  readonly #prefix: string;
  /** A key per claimed peer (`claimed/<id>`, empty): who the pool's peers may see of each other. */
  readonly #claimedPrefix: string;
  readonly #log: Logger;
  /** Peers this process is claiming right now: concurrent claims here try different peers. */
  readonly #claiming = new Set<string>();
  readonly #stopWatch: () => void;
  readonly #health: ServiceHealth | null;
  readonly #peerService: string | undefined;
  readonly #graceMs: number;

  constructor(options: ConsulCatalogOptions) {
    super();
    this.#kv = new ConsulKv(options.agent);
    this.#prefix = poolKvPrefix(options.pool);
    this.#claimedPrefix = claimedKvPrefix(options.pool);
    this.#log = (options.log ?? pino({ level: 'silent' })).child({ component: 'consul-catalog' });
    let failing = false;
    this.#stopWatch = this.#kv.watch(
      this.#prefix,
      () => {
        failing = false;
        this.emit('changed');
      },
      (err) => {
        if (!failing) this.#log.warn({ err: err.message }, 'watching the catalog in Consul failed; retrying');
        failing = true;
      },
    );
    this.#peerService = options.peerService;
    this.#graceMs = options.registrationGraceMs ?? 30_000;
    let healthFailing = false;
    this.#health = options.peerService
      ? new ServiceHealth({
          agent: options.agent,
          service: options.peerService,
          onChange: () => {
            healthFailing = false;
            this.emit('changed');
          },
          onError: (err) => {
            if (!healthFailing) this.#log.warn({ err: err.message }, 'watching the peers’ health in Consul failed');
            healthFailing = true;
          },
        })
      : null;
  }

  async register(peer: NewCatalogPeer): Promise<void> {
    await this.#update(
      peer.id,
      (current) => ({
        ...(current ?? { state: 'vacant', owner: null, registeredAtMs: Date.now(), claimedAtMs: null }),
        ...peer,
        healthy: true,
      }),
      // A user's peer placed again (after a restart) keeps its key, also one claimed before keys were kept.
      (next) => (next.state === 'claimed' ? [this.#showClaimed(next.id)] : []),
    );
    this.#expectInConsul(peer.id);
  }

  async claim(owner: string): Promise<CatalogPeer | null> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const tree = await this.#read();
      const mine = this.#ownedBy(tree, owner);
      if (mine) return mine;
      const vacant = [...tree.peers.values()]
        .filter(({ peer }) => peer.state === 'vacant' && this.#seen(tree, peer).healthy)
        .sort((a, b) => a.peer.registeredAtMs - b.peer.registeredAtMs || (a.peer.id < b.peer.id ? -1 : 1));
      if (vacant.length === 0) return null;
      const pick = vacant.find(({ peer }) => !this.#claiming.has(peer.id)) ?? vacant[attempt % vacant.length];
      if (!pick) return null;
      const claimed: CatalogPeer = { ...pick.peer, state: 'claimed', owner, claimedAtMs: Date.now() };
      this.#claiming.add(claimed.id);
      try {
        const took = await this.#kv.transact([
          // A key left by a peer that is gone (half a pair) is replaced; a live one makes this lose.
          { verb: 'cas', key: this.#ownerKey(owner), value: claimed.id, index: tree.owners.get(owner)?.index ?? 0 },
          { verb: 'cas', key: this.#peerKey(claimed.id), value: JSON.stringify(claimed), index: pick.index },
          this.#showClaimed(claimed.id),
        ]);
        if (took) return this.#seen(tree, claimed);
      } finally {
        this.#claiming.delete(claimed.id);
      }
    }
    throw new Error(`could not claim a peer for ${owner} in ${MAX_ATTEMPTS} tries: Consul KV is too contended`);
  }

  async assignedTo(owner: string): Promise<CatalogPeer | null> {
    return this.#ownedBy(await this.#read(), owner);
  }

  async get(peerId: string): Promise<CatalogPeer | null> {
    const tree = await this.#read();
    const entry = tree.peers.get(peerId);
    return entry ? this.#seen(tree, entry.peer) : null;
  }

  async list(): Promise<CatalogPeer[]> {
    const tree = await this.#read();
    return [...tree.peers.values()]
      .map(({ peer }) => this.#seen(tree, peer))
      .sort((a, b) => a.registeredAtMs - b.registeredAtMs || (a.id < b.id ? -1 : 1));
  }

  async setHealthy(peerId: string, healthy: boolean): Promise<void> {
    await this.#update(peerId, (current) => current && { ...current, healthy });
  }

  async release(peerId: string): Promise<void> {
    await this.#retry(async (tree) => {
      const entry = tree.peers.get(peerId);
      if (!entry || entry.peer.owner === null) return true;
      const vacant: CatalogPeer = { ...entry.peer, state: 'vacant', owner: null, claimedAtMs: null };
      return this.#kv.transact([
        ...this.#dropOwner(tree, entry.peer.owner, peerId),
        { verb: 'cas', key: this.#peerKey(peerId), value: JSON.stringify(vacant), index: entry.index },
        { verb: 'delete', key: this.#claimedKey(peerId) },
      ]);
    });
  }

  async remove(peerId: string): Promise<void> {
    await this.#retry(async (tree) => {
      const entry = tree.peers.get(peerId);
      if (!entry) return true;
      return this.#kv.transact([
        ...(entry.peer.owner === null ? [] : this.#dropOwner(tree, entry.peer.owner, peerId)),
        { verb: 'delete-cas', key: this.#peerKey(peerId), index: entry.index },
        { verb: 'delete', key: this.#claimedKey(peerId) },
      ]);
    });
  }

  async close(): Promise<void> {
    this.#stopWatch();
    this.#health?.stop();
  }

  /**
   * A peer that never registers in Consul (it cannot reach the agent: a wrong --peers-consul?)
   * finds no one there, and no one finds it: said once, in the dispatcher's log.
   */
  #expectInConsul(peerId: string): void {
    this.#health?.unlessRegisteredWithin(peerId, this.#graceMs, async () => {
      if (!(await this.get(peerId))) return;
      this.#log.warn(
        { peerId, service: this.#peerService, waitedMs: this.#graceMs },
        'a peer has not registered in Consul: can the peers reach the agent (--peers-consul)?',
      );
    });
  }

  /**
   * Rewrites one peer's record from what it is now (null: absent; returning null leaves it so),
   * with `also`'s writes in the same transaction.
   */
  async #update(
    peerId: string,
    change: (current: CatalogPeer | null) => CatalogPeer | null,
    also: (next: CatalogPeer) => KvWrite[] = () => [],
  ): Promise<void> {
    await this.#retry(async (tree) => {
      const entry = tree.peers.get(peerId);
      const next = change(entry?.peer ?? null);
      if (next === null) return true;
      const more = also(next);
      if (more.length === 0 && JSON.stringify(next) === JSON.stringify(entry?.peer)) return true;
      return this.#kv.transact([
        { verb: 'cas', key: this.#peerKey(peerId), value: JSON.stringify(next), index: entry?.index ?? 0 },
        ...more,
      ]);
    });
  }

  /** Reads the tree and tries `write` until no other writer got in between. */
  async #retry(write: (tree: Tree) => Promise<boolean>): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (await write(await this.#read())) return;
    }
    throw new Error(`could not update the catalog in ${MAX_ATTEMPTS} tries: Consul KV is too contended`);
  }

  #dropOwner(tree: Tree, owner: string, peerId: string): KvWrite[] {
    const held = tree.owners.get(owner);
    return held && held.peerId === peerId
      ? [{ verb: 'delete-cas', key: this.#ownerKey(owner), index: held.index }]
      : [];
  }

  /** The owner's peer, when both keys agree (a half-written pair is nobody's). */
  #ownedBy(tree: Tree, owner: string): CatalogPeer | null {
    const held = tree.owners.get(owner);
    const peer = held ? tree.peers.get(held.peerId)?.peer : undefined;
    return peer && peer.owner === owner ? this.#seen(tree, peer) : null;
  }

  /**
   * The record as the catalog's users see it: healthy if the dispatcher's probes say so, unless
   * (when followed) its Consul registration fails its checks. A peer not registered there gets
   * no verdict: one that cannot reach the agent must not look down, or the pool would start
   * peers without end (the warning of #expectInConsul says so instead). Writes keep the record.
   */
  #seen(tree: Tree, peer: CatalogPeer): CatalogPeer {
    if (!peer.healthy || tree.health?.get(peer.id) !== false) return peer;
    return { ...peer, healthy: false };
  }

  async #read(): Promise<Tree> {
    const [entries, health] = await Promise.all([this.#kv.tree(this.#prefix), this.#health?.verdicts() ?? null]);
    const tree: Tree = { peers: new Map(), owners: new Map(), health };
    for (const entry of entries) this.#file(tree, entry);
    return tree;
  }

  #file(tree: Tree, entry: KvEntry): void {
    const rest = entry.key.slice(this.#prefix.length);
    if (rest.startsWith('peers/')) {
      try {
        const peer = JSON.parse(entry.value) as CatalogPeer;
        tree.peers.set(peer.id, { peer, index: entry.modifyIndex });
      } catch {
        this.#log.warn({ key: entry.key }, 'a peer record in Consul is not JSON; ignored');
      }
    } else if (rest.startsWith('owners/')) {
      tree.owners.set(decodeURIComponent(rest.slice('owners/'.length)), {
        peerId: entry.value,
        index: entry.modifyIndex,
      });
    }
  }

  #showClaimed(peerId: string): KvWrite {
    return { verb: 'set', key: this.#claimedKey(peerId), value: '' };
  }

  #claimedKey(peerId: string): string {
    return `${this.#claimedPrefix}${peerId}`;
  }

  #peerKey(peerId: string): string {
    return `${this.#prefix}peers/${peerId}`;
  }

  #ownerKey(owner: string): string {
    return `${this.#prefix}owners/${encodeURIComponent(owner)}`;
  }
}
