import Database from 'better-sqlite3';
import { MAX_WAL_BYTES } from './checkpointer.js';
import { type MessageRecord, MessageState, type MessageStateValue, type StoredPeer, stateName } from './records.js';
import { MIGRATIONS } from './schema.js';

export type SyncMode = 'normal' | 'full';

export interface NewOutgoingMessage {
  id: string;
  senderId: string;
  peerId: string;
  conversationId: string;
  lamport: number;
  sentAtMs: number;
  text: string;
  /** The row, once stored: updates by row are cheaper than by (sender, id). */
  seq?: number;
}

/** An undelivered own message as the sender needs it. */
export type OutboxEntry = Required<Omit<NewOutgoingMessage, 'peerId'>>;

export interface NewIncomingMessage extends NewOutgoingMessage {
  receivedAtMs: number;
}

interface MessageRow {
  seq: number;
  id: string;
  sender_id: string;
  peer_id: string;
  conversation_id: string;
  outgoing: number;
  lamport: number;
  sent_at_ms: number;
  received_at_ms: number | null;
  text: string;
  state: number;
  state_at_ms: number;
  error: string | null;
}

interface PeerRow {
  id: string;
  name: string;
  signing_key: Buffer;
  sealing_key: Buffer;
  certificate: Buffer;
  addresses: string;
  greeting_port: number;
  secure_port: number;
  issued_at_ms: number;
  first_seen_ms: number;
  last_seen_ms: number;
}

/**
 * The peer's durable state in one SQLite file: known peers, history and outbox (outgoing
 * messages not yet delivered). WAL journal; `normal` sync survives process crashes, `full`
 * also survives power loss at the cost of an fsync per commit.
 */
export class MessageStore {
  readonly #db: Database.Database;
  readonly #statements;

  constructor(path: string, sync: SyncMode = 'normal') {
    this.#db = new Database(path);
    // Takes effect when the file is created: 16 KiB pages store large messages with half the
    // CPU of the 4 KiB default, at little cost for small ones.
    this.#db.pragma('page_size = 16384');
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
    this.#db.pragma('busy_timeout = 5000');
    // When the WAL starts over, give back what it grew beyond this.
    this.#db.pragma(`journal_size_limit = ${MAX_WAL_BYTES}`);
    this.#migrate();
    const db = this.#db;
    this.#statements = {
      insertOutgoing: db.prepare(
        `INSERT INTO messages (id, sender_id, peer_id, conversation_id, outgoing, lamport, sent_at_ms, state, state_at_ms)
         VALUES (?, ?, ?, ?, 1, ?, ?, ${MessageState.Queued}, ?)`,
      ),
      insertIncoming: db.prepare(
        `INSERT OR IGNORE INTO messages (id, sender_id, peer_id, conversation_id, outgoing, lamport, sent_at_ms, received_at_ms, state, state_at_ms)
         VALUES (?, ?, ?, ?, 0, ?, ?, ?, ${MessageState.Delivered}, ?)`,
      ),
      insertText: db.prepare('INSERT INTO message_texts (seq, text) VALUES (?, ?)'),
      advanceState: db.prepare(
        'UPDATE messages SET state = ?, state_at_ms = ? WHERE sender_id = ? AND id = ? AND outgoing = 1 AND state < ?',
      ),
      advanceStateBySeq: db.prepare(
        'UPDATE messages SET state = ?, state_at_ms = ? WHERE seq = ? AND outgoing = 1 AND state < ?',
      ),
      markFailed: db.prepare(
        `UPDATE messages SET state = ${MessageState.Failed}, state_at_ms = @now, error = @error
         WHERE sender_id = @senderId AND id = @id AND outgoing = 1 AND state < ${MessageState.Delivered}`,
      ),
      outbox: db.prepare(
        `SELECT m.*, t.text FROM messages m JOIN message_texts t ON t.seq = m.seq
         WHERE m.peer_id = ? AND m.outgoing = 1 AND m.state < ${MessageState.Delivered} AND m.id > ?
         ORDER BY m.id LIMIT ?`,
      ),
      outboxSize: db.prepare(
        `SELECT count(*) AS n FROM messages WHERE outgoing = 1 AND state < ${MessageState.Delivered}`,
      ),
      markIncomingRead: db.prepare(
        `UPDATE messages SET state = ${MessageState.Read}, state_at_ms = ?
         WHERE peer_id = ? AND outgoing = 0 AND state = ${MessageState.Delivered} RETURNING id`,
      ),
      readCursor: db.prepare(
        `SELECT max(id) AS cursor FROM messages WHERE peer_id = ? AND outgoing = 1 AND state = ${MessageState.Read}`,
      ),
      readSince: db.prepare(
        `SELECT id FROM messages WHERE peer_id = ? AND outgoing = 0 AND state = ${MessageState.Read} AND id > ?
         ORDER BY id LIMIT ?`,
      ),
      history: db.prepare(
        `SELECT page.*, t.text FROM (
           SELECT * FROM messages WHERE conversation_id = ? ORDER BY lamport DESC, sender_id DESC, id DESC LIMIT ?
         ) AS page JOIN message_texts t ON t.seq = page.seq
         ORDER BY page.lamport, page.sender_id, page.id`,
      ),
      getMessage: db.prepare(
        'SELECT m.*, t.text FROM messages m JOIN message_texts t ON t.seq = m.seq WHERE m.sender_id = ? AND m.id = ?',
      ),
      unreadCount: db.prepare(
        `SELECT count(*) AS n FROM messages WHERE peer_id = ? AND outgoing = 0 AND state = ${MessageState.Delivered}`,
      ),
      maxLamport: db.prepare('SELECT max(lamport) AS lamport FROM messages'),
      maxOwnId: db.prepare('SELECT max(id) AS id FROM messages WHERE outgoing = 1'),
      upsertPeer: db.prepare(
        `INSERT INTO peers (id, name, signing_key, sealing_key, certificate, addresses, greeting_port, secure_port, issued_at_ms, first_seen_ms, last_seen_ms)
         VALUES (@id, @name, @signingKey, @sealingKey, @certificate, @addresses, @greetingPort, @securePort, @issuedAtMs, @now, @now)
         ON CONFLICT (id) DO UPDATE SET
           name = excluded.name, sealing_key = excluded.sealing_key, certificate = excluded.certificate,
           addresses = excluded.addresses, greeting_port = excluded.greeting_port, secure_port = excluded.secure_port,
           issued_at_ms = excluded.issued_at_ms, last_seen_ms = excluded.last_seen_ms
         WHERE excluded.issued_at_ms >= peers.issued_at_ms`,
      ),
      touchPeer: db.prepare('UPDATE peers SET last_seen_ms = ? WHERE id = ?'),
      setPeerAddresses: db.prepare('UPDATE peers SET addresses = ? WHERE id = ?'),
      peersWithOutbox: db.prepare('SELECT DISTINCT peer_id FROM messages WHERE outgoing = 1 AND state < 2'),
      getPeer: db.prepare('SELECT * FROM peers WHERE id = ?'),
      listPeers: db.prepare('SELECT * FROM peers ORDER BY name, id'),
    };
  }

  #migrate(): void {
    const version = this.#db.pragma('user_version', { simple: true }) as number;
    for (let i = version; i < MIGRATIONS.length; i++) {
      this.#db.transaction(() => {
        this.#db.exec(MIGRATIONS[i] ?? '');
        this.#db.pragma(`user_version = ${i + 1}`);
      })();
    }
  }

  /**
   * When commits on this connection checkpoint the WAL: `often` is SQLite's default (every
   * 1000 pages); `rarely` leaves the routine work to a Checkpointer thread and steps in only
   * when the WAL passes MAX_WAL_BYTES. Under sustained writing the thread never quite catches
   * up, and only a checkpoint by the writer itself lets the WAL start over (reused in place,
   * instead of growing without end); by then there are only a few frames left to copy.
   */
  checkpointOnCommit(when: 'often' | 'rarely'): void {
    const pageSize = this.#db.pragma('page_size', { simple: true }) as number;
    this.#db.pragma(`wal_autocheckpoint = ${when === 'often' ? 1000 : Math.ceil(MAX_WAL_BYTES / pageSize)}`);
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  /**
   * Runs `work` in one transaction: one commit for a whole batch. IMMEDIATE takes the write
   * lock up front, so that waiting for the checkpointer goes through the busy timeout instead
   * of failing at once (a deferred transaction that read first cannot wait for the lock).
   */
  transaction<T>(work: () => T): T {
    return this.#db.transaction(work).immediate();
  }

  insertOutgoing(messages: readonly NewOutgoingMessage[]): void {
    const { insertOutgoing, insertText } = this.#statements;
    this.transaction(() => {
      for (const m of messages) {
        const row = insertOutgoing.run(m.id, m.senderId, m.peerId, m.conversationId, m.lamport, m.sentAtMs, m.sentAtMs);
        insertText.run(row.lastInsertRowid, m.text);
        m.seq = Number(row.lastInsertRowid);
      }
    });
  }

  /** Stores incoming messages once; returns those that were new (the rest are duplicates). */
  insertIncoming(messages: readonly NewIncomingMessage[]): Set<string> {
    const fresh = new Set<string>();
    const { insertIncoming, insertText } = this.#statements;
    this.transaction(() => {
      for (const m of messages) {
        const row = insertIncoming.run(
          m.id,
          m.senderId,
          m.peerId,
          m.conversationId,
          m.lamport,
          m.sentAtMs,
          m.receivedAtMs,
          m.receivedAtMs,
        );
        if (row.changes === 0) continue;
        insertText.run(row.lastInsertRowid, m.text);
        fresh.add(m.id);
      }
    });
    return fresh;
  }

  /** Moves own messages forward to `state` (never back); returns the ids that changed. */
  advanceOutgoing(senderId: string, ids: readonly string[], state: MessageStateValue, now = Date.now()): string[] {
    const changed: string[] = [];
    const { advanceState } = this.#statements;
    this.transaction(() => {
      for (const id of ids) {
        if (advanceState.run(state, now, senderId, id, state).changes > 0) changed.push(id);
      }
    });
    return changed;
  }

  /** Like advanceOutgoing, for messages whose rows are known. */
  advanceOutgoingRows(
    rows: readonly { id: string; seq: number }[],
    state: MessageStateValue,
    now = Date.now(),
  ): string[] {
    const changed: string[] = [];
    const { advanceStateBySeq } = this.#statements;
    this.transaction(() => {
      for (const { id, seq } of rows) {
        if (advanceStateBySeq.run(state, now, seq, state).changes > 0) changed.push(id);
      }
    });
    return changed;
  }

  markFailed(senderId: string, id: string, error: string, now = Date.now()): boolean {
    return this.#statements.markFailed.run({ senderId, id, error, now }).changes > 0;
  }

  /**
   * Undelivered own messages to a peer, oldest first, after `afterId`: at most `limit`, and
   * no more once `maxTextBytes` of text are taken (at least one message, however large).
   */
  outbox(peerId: string, afterId: string, limit: number, maxTextBytes = Number.POSITIVE_INFINITY): OutboxEntry[] {
    const entries: OutboxEntry[] = [];
    let bytes = 0;
    for (const row of this.#statements.outbox.iterate(peerId, afterId, limit) as IterableIterator<MessageRow>) {
      if (entries.length > 0 && bytes + row.text.length > maxTextBytes) break;
      entries.push({
        seq: row.seq,
        id: row.id,
        senderId: row.sender_id,
        conversationId: row.conversation_id,
        lamport: row.lamport,
        sentAtMs: row.sent_at_ms,
        text: row.text,
      });
      bytes += row.text.length;
    }
    return entries;
  }

  /** How many own messages are not delivered yet. */
  outboxSize(): number {
    return (this.#statements.outboxSize.get() as { n: number }).n;
  }

  /** Marks everything received from a peer as read; returns the ids newly read. */
  markIncomingRead(peerId: string, now = Date.now()): string[] {
    return (this.#statements.markIncomingRead.all(now, peerId) as { id: string }[]).map((row) => row.id).sort();
  }

  /** The largest id of own messages to a peer known to be read ('' when none). */
  readCursor(peerId: string): string {
    return (this.#statements.readCursor.get(peerId) as { cursor: string | null }).cursor ?? '';
  }

  /** Ids of messages from a peer that were read here, after a cursor of theirs. */
  readSince(peerId: string, cursor: string, limit: number): string[] {
    return (this.#statements.readSince.all(peerId, cursor, limit) as { id: string }[]).map((row) => row.id);
  }

  /** The last `limit` messages of a conversation, in conversation order. */
  history(conversationId: string, limit: number): MessageRecord[] {
    return (this.#statements.history.all(conversationId, limit) as MessageRow[]).map(toRecord);
  }

  getMessage(senderId: string, id: string): MessageRecord | null {
    const row = this.#statements.getMessage.get(senderId, id) as MessageRow | undefined;
    return row ? toRecord(row) : null;
  }

  unreadCount(peerId: string): number {
    return (this.#statements.unreadCount.get(peerId) as { n: number }).n;
  }

  maxLamport(): number {
    return (this.#statements.maxLamport.get() as { lamport: number | null }).lamport ?? 0;
  }

  maxOwnId(): string {
    return (this.#statements.maxOwnId.get() as { id: string | null }).id ?? '';
  }

  /** Saves a verified identity record; an older record never replaces a newer one. */
  upsertPeer(peer: Omit<StoredPeer, 'firstSeenMs' | 'lastSeenMs'>, now = Date.now()): void {
    this.#statements.upsertPeer.run({ ...peer, addresses: JSON.stringify(peer.addresses), now });
  }

  touchPeer(id: string, now = Date.now()): void {
    this.#statements.touchPeer.run(now, id);
  }

  /** Peers with messages waiting in the outbox. */
  peersWithOutbox(): string[] {
    return (this.#statements.peersWithOutbox.all() as { peer_id: string }[]).map((row) => row.peer_id);
  }

  setPeerAddresses(id: string, addresses: readonly string[]): void {
    this.#statements.setPeerAddresses.run(JSON.stringify(addresses), id);
  }

  getPeer(id: string): StoredPeer | null {
    const row = this.#statements.getPeer.get(id) as PeerRow | undefined;
    return row ? toPeer(row) : null;
  }

  listPeers(): StoredPeer[] {
    return (this.#statements.listPeers.all() as PeerRow[]).map(toPeer);
  }
}

function toRecord(row: MessageRow): MessageRecord {
  return {
    id: row.id,
    senderId: row.sender_id,
    peerId: row.peer_id,
    conversationId: row.conversation_id,
    outgoing: row.outgoing === 1,
    lamport: row.lamport,
    sentAtMs: row.sent_at_ms,
    receivedAtMs: row.received_at_ms,
    text: row.text,
    state: stateName(row.state),
    stateAtMs: row.state_at_ms,
    error: row.error,
  };
}

function toPeer(row: PeerRow): StoredPeer {
  return {
    id: row.id,
    name: row.name,
    signingKey: row.signing_key,
    sealingKey: row.sealing_key,
    certificate: row.certificate,
    addresses: JSON.parse(row.addresses) as string[],
    greetingPort: row.greeting_port,
    securePort: row.secure_port,
    issuedAtMs: row.issued_at_ms,
    firstSeenMs: row.first_seen_ms,
    lastSeenMs: row.last_seen_ms,
  };
}
