/** Schema migrations, applied in order; `user_version` records how many have run. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE peers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    signing_key BLOB NOT NULL,
    sealing_key BLOB NOT NULL,
    certificate BLOB NOT NULL,
    addresses TEXT NOT NULL,
    greeting_port INTEGER NOT NULL,
    secure_port INTEGER NOT NULL,
    issued_at_ms INTEGER NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL
  );
  CREATE TABLE messages (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    peer_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    outgoing INTEGER NOT NULL,
    lamport INTEGER NOT NULL,
    sent_at_ms INTEGER NOT NULL,
    received_at_ms INTEGER,
    state INTEGER NOT NULL,
    state_at_ms INTEGER NOT NULL,
    error TEXT,
    UNIQUE (sender_id, id)
  );
  -- Texts apart from the metadata: SQLite rewrites a whole row on UPDATE, and states change
  -- several times per message.
  CREATE TABLE message_texts (
    seq INTEGER PRIMARY KEY REFERENCES messages (seq),
    text TEXT NOT NULL
  );
  CREATE INDEX messages_in_order ON messages (conversation_id, lamport, sender_id, id);
  -- Partial indexes, so that a state change touches as few index entries as possible.
  -- The outbox: undelivered own messages, per peer in id (= send) order.
  CREATE INDEX messages_outbox ON messages (peer_id, id) WHERE outgoing = 1 AND state < 2;
  CREATE INDEX messages_unread ON messages (peer_id, id) WHERE outgoing = 0 AND state = 2;
  CREATE INDEX messages_read ON messages (peer_id, outgoing, id) WHERE state = 3;
  `,
];
