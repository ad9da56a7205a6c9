import type { PeerIdentity } from '@p2p-messenger/proto';
import type { RemoteRoute } from '../relay-seam.js';

/** A peer as a link advertised it: its record, and the bridges it crossed (sender first). */
export interface Advert {
  readonly record: PeerIdentity;
  readonly path: readonly string[];
}

/** What to send one link: adverts of our current choices, and ids we no longer offer it. */
export interface LinkOutput {
  adverts: Advert[];
  withdrawn: string[];
}

/** A change in the remote peers we can reach (the local side re-advertises these). */
export type RemoteChange = { kind: 'added' | 'updated'; route: RemoteRoute } | { kind: 'removed'; peerId: string };

/** The result of one input: updates per link, and changes in the remote peers. */
export interface TableDelta {
  outbound: Map<string, LinkOutput>;
  remote: RemoteChange[];
}

/** Longest path of bridges an advert may carry: a bound on what a link can make us hold. */
export const MAX_PATH_LENGTH = 32;

/** An advert that breaks the protocol (as opposed to one that merely loops or is stale). */
export class RouteAdvertError extends Error {
  override name = 'RouteAdvertError';
}

interface Candidate {
  record: PeerIdentity;
  /** Bridges between us and the peer's network: [] for a local peer, else next hop first. */
  path: readonly string[];
}

/**
 * Path-vector routing between bridges, pure (no I/O): every input returns what to send on
 * which link and what changed in the remote peers. Per peer it keeps one candidate per link
 * (and one local); it chooses local first, then the shortest path, then the lowest next-hop
 * id; it advertises its choice on every up link that is not in the choice's path, and
 * withdraws from a link whatever it no longer offers it. Adverts whose path holds our own id
 * are loops and are dropped (an implicit withdrawal of that link's candidate).
 */
export class RouteTable {
  readonly #selfId: string;
  readonly #local = new Map<string, PeerIdentity>();
  /** peer id -> link id -> candidate. */
  readonly #viaLinks = new Map<string, Map<string, Candidate>>();
  readonly #upLinks = new Set<string>();
  /** link id -> peer id -> what we last advertised there (record version and path). */
  readonly #sent = new Map<string, Map<string, string>>();
  /** peer id -> what we last reported as a remote peer. */
  readonly #reported = new Map<string, string>();

  constructor(selfId: string) {
    this.#selfId = selfId;
  }

  get selfId(): string {
    return this.#selfId;
  }

  /** A peer of our own network appeared or re-signed its record. Older records lose. */
  setLocal(record: PeerIdentity): TableDelta {
    const held = this.#local.get(record.id);
    if (held && held.issuedAtMs > record.issuedAtMs) return emptyDelta();
    this.#local.set(record.id, record);
    return this.#settle([record.id]);
  }

  removeLocal(peerId: string): TableDelta {
    if (!this.#local.delete(peerId)) return emptyDelta();
    return this.#settle([peerId]);
  }

  /** A link came up: it gets our whole current choice. */
  linkUp(linkId: string): TableDelta {
    this.#upLinks.add(linkId);
    this.#sent.set(linkId, new Map());
    return this.#settle(this.#allPeerIds());
  }

  /** A link went down: whatever came through it is withdrawn, and other paths take over. */
  linkDown(linkId: string): TableDelta {
    if (!this.#upLinks.delete(linkId)) return emptyDelta();
    this.#sent.delete(linkId);
    const affected: string[] = [];
    for (const [peerId, byLink] of this.#viaLinks) {
      if (byLink.delete(linkId)) affected.push(peerId);
      if (byLink.size === 0) this.#viaLinks.delete(peerId);
    }
    return this.#settle(affected);
  }

  /**
   * An advert from a link (the record already checked against its id). Throws
   * RouteAdvertError if the path does not start with the link's own bridge, repeats a
   * bridge or is longer than MAX_PATH_LENGTH. A looping advert withdraws that link's candidate; a stale one is ignored.
   */
  advert(linkId: string, advert: Advert): TableDelta {
    if (!this.#upLinks.has(linkId)) return emptyDelta();
    const { record, path } = advert;
    if (path[0] !== linkId) {
      throw new RouteAdvertError(`bridge ${linkId} sent an advert for ${record.id} whose path starts elsewhere`);
    }
    if (path.length > MAX_PATH_LENGTH) {
      throw new RouteAdvertError(`bridge ${linkId} sent an advert for ${record.id} across ${path.length} bridges`);
    }
    if (new Set(path).size !== path.length) {
      throw new RouteAdvertError(`bridge ${linkId} sent an advert for ${record.id} whose path repeats a bridge`);
    }
    if (path.includes(this.#selfId)) return this.withdraw(linkId, record.id);
    let byLink = this.#viaLinks.get(record.id);
    const held = byLink?.get(linkId);
    if (held && held.record.issuedAtMs > record.issuedAtMs) return emptyDelta();
    if (!byLink) {
      byLink = new Map();
      this.#viaLinks.set(record.id, byLink);
    }
    byLink.set(linkId, { record, path: [...path] });
    return this.#settle([record.id]);
  }

  /** A link no longer offers a peer. */
  withdraw(linkId: string, peerId: string): TableDelta {
    const byLink = this.#viaLinks.get(peerId);
    if (!byLink?.delete(linkId)) return emptyDelta();
    if (byLink.size === 0) this.#viaLinks.delete(peerId);
    return this.#settle([peerId]);
  }

  /** The route to a remote peer (null for a local or unknown one). */
  routeTo(peerId: string): RemoteRoute | null {
    if (this.#local.has(peerId)) return null;
    const best = this.#best(peerId);
    return best ? toRoute(best) : null;
  }

  /** The link that leads to a remote peer, or null. */
  linkFor(peerId: string): string | null {
    return this.routeTo(peerId)?.nextHop ?? null;
  }

  localPeer(peerId: string): PeerIdentity | null {
    return this.#local.get(peerId) ?? null;
  }

  localPeers(): PeerIdentity[] {
    return [...this.#local.values()];
  }

  remotePeers(): RemoteRoute[] {
    const routes: RemoteRoute[] = [];
    for (const peerId of this.#viaLinks.keys()) {
      const route = this.routeTo(peerId);
      if (route) routes.push(route);
    }
    return routes;
  }

  /** Whether we currently offer a peer to a link (a bridge relays only what it offers). */
  advertisedTo(linkId: string, peerId: string): boolean {
    return this.#sent.get(linkId)?.has(peerId) ?? false;
  }

  #allPeerIds(): string[] {
    return [...new Set([...this.#local.keys(), ...this.#viaLinks.keys()])];
  }

  #best(peerId: string): Candidate | null {
    const local = this.#local.get(peerId);
    let best: Candidate | null = null;
    for (const candidate of this.#viaLinks.get(peerId)?.values() ?? []) {
      if (!best || shorterOrLower(candidate, best)) best = candidate;
    }
    if (local) best = { record: local, path: [] };
    if (!best) return null;
    return { record: this.#newestRecord(peerId) ?? best.record, path: best.path };
  }

  /** Records are signed by the peer itself: the newest one seen on any path is the one to pass on. */
  #newestRecord(peerId: string): PeerIdentity | null {
    let newest = this.#local.get(peerId) ?? null;
    for (const { record } of this.#viaLinks.get(peerId)?.values() ?? []) {
      if (!newest || record.issuedAtMs > newest.issuedAtMs) newest = record;
    }
    return newest;
  }

  #settle(peerIds: Iterable<string>): TableDelta {
    const delta = emptyDelta();
    for (const peerId of peerIds) {
      const best = this.#best(peerId);
      for (const linkId of this.#upLinks) this.#offer(delta, linkId, peerId, best);
      this.#report(delta, peerId, best && !this.#local.has(peerId) ? best : null);
    }
    return delta;
  }

  #offer(delta: TableDelta, linkId: string, peerId: string, best: Candidate | null): void {
    const sent = this.#sent.get(linkId) as Map<string, string>;
    const offered = best && !best.path.includes(linkId) ? best : null;
    const key = offered ? `${offered.record.issuedAtMs}|${offered.path.join(',')}` : null;
    if (key === (sent.get(peerId) ?? null)) return;
    const output = outputFor(delta, linkId);
    if (offered && key) {
      sent.set(peerId, key);
      output.adverts.push({ record: offered.record, path: [this.#selfId, ...offered.path] });
    } else {
      sent.delete(peerId);
      output.withdrawn.push(peerId);
    }
  }

  #report(delta: TableDelta, peerId: string, remote: Candidate | null): void {
    const before = this.#reported.get(peerId);
    if (!remote) {
      if (before === undefined) return;
      this.#reported.delete(peerId);
      delta.remote.push({ kind: 'removed', peerId });
      return;
    }
    const route = toRoute(remote);
    const key = `${route.nextHop}|${route.hops}|${remote.record.issuedAtMs}`;
    if (key === before) return;
    this.#reported.set(peerId, key);
    delta.remote.push({ kind: before === undefined ? 'added' : 'updated', route });
  }
}

function shorterOrLower(a: Candidate, b: Candidate): boolean {
  if (a.path.length !== b.path.length) return a.path.length < b.path.length;
  return (a.path[0] as string) < (b.path[0] as string);
}

function toRoute(candidate: Candidate): RemoteRoute {
  return {
    peerId: candidate.record.id,
    name: candidate.record.name,
    hops: candidate.path.length,
    nextHop: candidate.path[0] as string,
    record: candidate.record,
  };
}

function emptyDelta(): TableDelta {
  return { outbound: new Map(), remote: [] };
}

function outputFor(delta: TableDelta, linkId: string): LinkOutput {
  let output = delta.outbound.get(linkId);
  if (!output) {
    output = { adverts: [], withdrawn: [] };
    delta.outbound.set(linkId, output);
  }
  return output;
}
