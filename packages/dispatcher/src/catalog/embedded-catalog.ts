import { EventEmitter } from 'node:events';
import type Database from 'better-sqlite3';
import { openDatabase } from '../sqlite.js';
import { TurnBatch } from '../turn-batch.js';
import type { Catalog, CatalogEvents, CatalogPeer, NewCatalogPeer } from './catalog.js';

interface PeerRow {
  id: string;
  instance_id: string;
  name: string;
  address: string;
  greeting_port: number;
  secure_port: number;
  web_port: number;
  fingerprint: string;
  owner: string | null;
  healthy: number;
  registered_at_ms: number;
  claimed_at_ms: number | null;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS peers (
    id TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    greeting_port INTEGER NOT NULL,
    secure_port INTEGER NOT NULL,
    web_port INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    owner TEXT UNIQUE,
    healthy INTEGER NOT NULL,
    registered_at_ms INTEGER NOT NULL,
    claimed_at_ms INTEGER
  );
`;

function toPeer(row: PeerRow): CatalogPeer {
  return {
    id: row.id,
    instanceId: row.instance_id,
    name: row.name,
    address: row.address,
    greetingPort: row.greeting_port,
    securePort: row.secure_port,
    webPort: row.web_port,
    fingerprint: row.fingerprint,
    state: row.owner === null ? 'vacant' : 'claimed',
    owner: row.owner,
    healthy: row.healthy === 1,
    registeredAtMs: row.registered_at_ms,
    claimedAtMs: row.claimed_at_ms,
  };
}

/**
 * The catalog of the embedded dispatcher: one SQLite file in its data dir, so assignments
 * survive restarts. The claims of one turn of the event loop are one IMMEDIATE transaction,
 * and an owner column that is UNIQUE backs them: two dispatchers sharing the file cannot hand
 * one peer, or two peers, to a user.
 */
export class EmbeddedCatalog extends EventEmitter<CatalogEvents> implements Catalog {
  readonly #db: Database.Database;
  readonly #statements;
  readonly #claims = new TurnBatch<string, CatalogPeer | null>((owners) => this.#claimAll(owners));

  constructor(path: string) {
    super();
    this.#db = openDatabase(path, SCHEMA);
    const db = this.#db;
    this.#statements = {
      register: db.prepare(
        `INSERT INTO peers (id, instance_id, name, address, greeting_port, secure_port, web_port, fingerprint, owner, healthy, registered_at_ms)
         VALUES (@id, @instanceId, @name, @address, @greetingPort, @securePort, @webPort, @fingerprint, NULL, 1, @now)
         ON CONFLICT (id) DO UPDATE SET instance_id = excluded.instance_id, name = excluded.name, address = excluded.address,
           greeting_port = excluded.greeting_port, secure_port = excluded.secure_port,
           web_port = excluded.web_port, fingerprint = excluded.fingerprint, healthy = 1`,
      ),
      byOwner: db.prepare('SELECT * FROM peers WHERE owner = ?'),
      byId: db.prepare('SELECT * FROM peers WHERE id = ?'),
      all: db.prepare('SELECT * FROM peers ORDER BY registered_at_ms, id'),
      firstVacant: db.prepare(
        'SELECT * FROM peers WHERE owner IS NULL AND healthy = 1 ORDER BY registered_at_ms, id LIMIT 1',
      ),
      take: db.prepare('UPDATE peers SET owner = ?, claimed_at_ms = ? WHERE id = ? AND owner IS NULL'),
      setHealthy: db.prepare('UPDATE peers SET healthy = ? WHERE id = ?'),
      release: db.prepare('UPDATE peers SET owner = NULL, claimed_at_ms = NULL WHERE id = ?'),
      remove: db.prepare('DELETE FROM peers WHERE id = ?'),
    };
  }

  async register(peer: NewCatalogPeer): Promise<void> {
    this.#statements.register.run({ ...peer, now: Date.now() });
    this.emit('changed');
  }

  claim(owner: string): Promise<CatalogPeer | null> {
    return this.#claims.add(owner);
  }

  /** The claims of one turn, in order, in one IMMEDIATE transaction; one change for all of them. */
  #claimAll(owners: readonly string[]): (CatalogPeer | null)[] {
    const { byOwner, firstVacant, take, byId } = this.#statements;
    let took = false;
    const peers = this.#db
      .transaction(() =>
        owners.map((owner) => {
          const mine = byOwner.get(owner) as PeerRow | undefined;
          if (mine) return toPeer(mine);
          const vacant = firstVacant.get() as PeerRow | undefined;
          if (!vacant || take.run(owner, Date.now(), vacant.id).changes !== 1) return null;
          took = true;
          return toPeer(byId.get(vacant.id) as PeerRow);
        }),
      )
      .immediate();
    if (took) this.emit('changed');
    return peers;
  }

  async assignedTo(owner: string): Promise<CatalogPeer | null> {
    const row = this.#statements.byOwner.get(owner) as PeerRow | undefined;
    return row ? toPeer(row) : null;
  }

  async get(peerId: string): Promise<CatalogPeer | null> {
    const row = this.#statements.byId.get(peerId) as PeerRow | undefined;
    return row ? toPeer(row) : null;
  }

  async list(): Promise<CatalogPeer[]> {
    return (this.#statements.all.all() as PeerRow[]).map(toPeer);
  }

  async setHealthy(peerId: string, healthy: boolean): Promise<void> {
    if (this.#statements.setHealthy.run(healthy ? 1 : 0, peerId).changes > 0) this.emit('changed');
  }

  async release(peerId: string): Promise<void> {
    if (this.#statements.release.run(peerId).changes > 0) this.emit('changed');
  }

  async remove(peerId: string): Promise<void> {
    if (this.#statements.remove.run(peerId).changes > 0) this.emit('changed');
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
