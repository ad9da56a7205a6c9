import type { Announcement } from '@p2p-messenger/proto';

/** Timestamps remembered for replay checks; past this the oldest-learned are forgotten. */
const MAX_REMEMBERED_PEERS = 4096;

interface Heard {
  announcement: Announcement;
  /** Address -> when it was last heard from there. */
  addresses: Map<string, number>;
}

/**
 * What multicast has heard of each peer: its newest announcement and the addresses it came
 * from, each with its own age (a peer may be heard over IPv4 and IPv6, or on two LANs).
 * Newest accepted timestamps outlive the peers, so that a replay stays stale after a goodbye.
 */
export class HeardPeers {
  readonly #heard = new Map<string, Heard>();
  /** Peer id -> its newest accepted timestamp, and the addresses that one came from. */
  readonly #newest = new Map<string, { issuedAtMs: number; from: Set<string> }>();

  /**
   * Whether an announcement could be news: newer than the last accepted, or as new and from
   * an address it was not accepted from (a peer heard over IPv4 and IPv6, or on two LANs).
   */
  couldBeNews(announcement: Announcement, address: string): boolean {
    const newest = this.#newest.get(announcement.peerId);
    if (newest === undefined || announcement.issuedAtMs > newest.issuedAtMs) return true;
    return announcement.issuedAtMs === newest.issuedAtMs && !newest.from.has(address);
  }

  hello(announcement: Announcement, address: string, now: number): void {
    this.noteAccepted(announcement, address);
    const heard = this.#heard.get(announcement.peerId);
    if (heard) {
      if (announcement.issuedAtMs >= heard.announcement.issuedAtMs) heard.announcement = announcement;
      heard.addresses.set(address, now);
    } else {
      this.#heard.set(announcement.peerId, { announcement, addresses: new Map([[address, now]]) });
    }
  }

  goodbye(announcement: Announcement, address: string): void {
    this.noteAccepted(announcement, address);
    this.#heard.delete(announcement.peerId);
  }

  get(peerId: string): { announcement: Announcement; addresses: string[]; lastHeardMs: number } | undefined {
    const heard = this.#heard.get(peerId);
    if (!heard) return undefined;
    const byRecency = [...heard.addresses].sort((a, b) => rank(a[0]) - rank(b[0]) || b[1] - a[1]);
    return {
      announcement: heard.announcement,
      addresses: byRecency.map(([address]) => address),
      lastHeardMs: Math.max(...heard.addresses.values()),
    };
  }

  /** Forgets addresses not heard since `cutoff`; returns the peers that changed, and whether each is gone. */
  expire(cutoff: number): { peerId: string; gone: boolean }[] {
    const changed: { peerId: string; gone: boolean }[] = [];
    for (const [peerId, heard] of this.#heard) {
      let dropped = false;
      for (const [address, at] of heard.addresses) {
        if (at < cutoff) {
          heard.addresses.delete(address);
          dropped = true;
        }
      }
      if (heard.addresses.size === 0) this.#heard.delete(peerId);
      if (dropped) changed.push({ peerId, gone: heard.addresses.size === 0 });
    }
    return changed;
  }

  clear(): void {
    this.#heard.clear();
  }

  /** Remembers an accepted announcement's timestamp, so that a replay of it is stale (bridges' too). */
  noteAccepted(announcement: Announcement, address: string): void {
    const newest = this.#newest.get(announcement.peerId);
    if (newest && announcement.issuedAtMs < newest.issuedAtMs) return;
    if (newest && announcement.issuedAtMs === newest.issuedAtMs) {
      newest.from.add(address);
      return;
    }
    this.#newest.set(announcement.peerId, { issuedAtMs: announcement.issuedAtMs, from: new Set([address]) });
    if (this.#newest.size > MAX_REMEMBERED_PEERS) {
      const oldest = this.#newest.keys().next().value;
      if (oldest !== undefined && !this.#heard.has(oldest)) this.#newest.delete(oldest);
    }
  }
}

/** IPv4 before IPv6: the order dialing should try them in (link-local sources never get here). */
function rank(address: string): number {
  return address.includes(':') ? 1 : 0;
}
