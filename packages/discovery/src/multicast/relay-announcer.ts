import type { RelayedPeer } from '@p2p-messenger/proto';
import type { Logger } from 'pino';
import { relayedEntryProblem } from './relay-routes.js';

/**
 * What a directory that speaks for a bridge re-advertises on its LAN: the peers of other
 * networks reachable through the bridge now. Asked every interval, and at once after the
 * bridge calls `MulticastDirectory.relayedChanged()`.
 */
export interface RelaySource {
  relayedPeers(): RelayedPeer[];
}

/** What one send of a bridge carries: entries to announce, and ids to withdraw. */
export interface RelayRound {
  relayed: RelayedPeer[];
  withdrawn: RelayedPeer[];
}

/**
 * The bridge's side of re-advertising: what it advertised last, so that a change sends only
 * what changed, a peer that left the list is withdrawn, and a stop withdraws everything.
 */
export class RelayAnnouncer {
  readonly #bridgeId: string;
  readonly #source: RelaySource;
  readonly #log: Logger;
  /** Advertised and not withdrawn: id -> entry. */
  readonly #advertised = new Map<string, RelayedPeer>();
  /** Ids refused once already (logged once, not every interval). */
  readonly #refused = new Set<string>();

  constructor(bridgeId: string, source: RelaySource, log: Logger) {
    this.#bridgeId = bridgeId;
    this.#source = source;
    this.#log = log;
  }

  /** Every interval: the whole list again (it keeps the routes alive), and what left it. */
  everything(): RelayRound {
    const current = this.#current();
    const withdrawn = this.#departed(current);
    this.#replace(current);
    return { relayed: [...current.values()], withdrawn };
  }

  /** After a change: the entries that are new or changed, and what left the list. */
  changes(): RelayRound {
    const current = this.#current();
    const withdrawn = this.#departed(current);
    const relayed = [...current.values()].filter((entry) => {
      const before = this.#advertised.get(entry.id);
      return !before || before.name !== entry.name || before.hops !== entry.hops;
    });
    this.#replace(current);
    return { relayed, withdrawn };
  }

  /** What a newcomer should hear: everything advertised now. */
  advertised(): RelayedPeer[] {
    return [...this.#advertised.values()];
  }

  /** At stop: every advertised peer, withdrawn. */
  withdrawAll(): RelayedPeer[] {
    const all = [...this.#advertised.keys()].map(withdrawal);
    this.#advertised.clear();
    return all;
  }

  /** The source's list, each id once, without entries receivers would ignore. */
  #current(): Map<string, RelayedPeer> {
    const current = new Map<string, RelayedPeer>();
    for (const entry of this.#source.relayedPeers()) {
      const problem = relayedEntryProblem(entry, this.#bridgeId, '');
      if (problem) {
        if (!this.#refused.has(entry.id)) {
          this.#refused.add(entry.id);
          this.#log.warn({ remotePeerId: entry.id, problem }, 'not re-advertising a relayed peer');
        }
        continue;
      }
      current.set(entry.id, { id: entry.id, name: entry.name, hops: entry.hops });
    }
    return current;
  }

  #departed(current: ReadonlyMap<string, RelayedPeer>): RelayedPeer[] {
    return [...this.#advertised.keys()].filter((id) => !current.has(id)).map(withdrawal);
  }

  #replace(current: ReadonlyMap<string, RelayedPeer>): void {
    this.#advertised.clear();
    for (const [id, entry] of current) this.#advertised.set(id, entry);
  }
}

/** A withdrawal names the id only. */
function withdrawal(id: string): RelayedPeer {
  return { id, name: '', hops: 0 };
}
