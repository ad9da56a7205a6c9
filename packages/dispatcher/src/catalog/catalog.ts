import type { EventEmitter } from 'node:events';

/** A peer instance as the dispatcher tracks it. */
export interface CatalogPeer {
  id: string;
  /** The orchestrator's handle for it (to start it again after a restart of the dispatcher). */
  instanceId: string;
  name: string;
  /** Where the dispatcher (or its proxy) reaches the peer. */
  address: string;
  greetingPort: number;
  securePort: number;
  webPort: number;
  fingerprint: string;
  state: 'vacant' | 'claimed';
  /** The user it belongs to, once claimed. */
  owner: string | null;
  healthy: boolean;
  registeredAtMs: number;
  claimedAtMs: number | null;
}

export type NewCatalogPeer = Omit<CatalogPeer, 'state' | 'owner' | 'healthy' | 'registeredAtMs' | 'claimedAtMs'>;

/**
 * The dispatcher's record of peer instances and who owns which. `claim` is atomic: no peer
 * ever goes to two users, also when logins race (and, for catalogs shared by several
 * dispatchers, across them). Implementations: EmbeddedCatalog (SQLite in the dispatcher's
 * data dir); a Consul one later.
 */
export interface CatalogEvents {
  /** Something in the catalog changed (a peer came, went, was claimed, moved or fell ill). */
  changed: [];
}

export interface Catalog extends EventEmitter<CatalogEvents> {
  /** Adds a started peer as vacant (and healthy), or refreshes its details. */
  register(peer: NewCatalogPeer): Promise<void>;
  /** The owner's peer: the one already assigned, else a healthy vacant one now theirs, else null. */
  claim(owner: string): Promise<CatalogPeer | null>;
  assignedTo(owner: string): Promise<CatalogPeer | null>;
  get(peerId: string): Promise<CatalogPeer | null>;
  list(): Promise<CatalogPeer[]>;
  setHealthy(peerId: string, healthy: boolean): Promise<void>;
  /** Makes a claimed peer vacant again (its owner loses it). */
  release(peerId: string): Promise<void>;
  remove(peerId: string): Promise<void>;
  close(): Promise<void>;
}
