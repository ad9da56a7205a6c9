import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { openDatabase } from '../sqlite.js';
import { TurnBatch } from '../turn-batch.js';
import { hashPassword, MAX_PASSWORD_CHARS, verifyPassword } from './passwords.js';

export interface Account {
  id: string;
  username: string;
  guest: boolean;
  createdAtMs: number;
}

/** A sign-up that cannot be: the message says what to change. */
export class AccountError extends Error {
  override name = 'AccountError';
  constructor(
    readonly reason: 'username-taken' | 'bad-username' | 'bad-password',
    message: string,
  ) {
    super(message);
  }
}

const USERNAME = /^[a-z0-9][a-z0-9_.-]{2,31}$/;
export const MIN_PASSWORD_CHARS = 8;

interface AccountRow {
  id: string;
  username: string;
  password_hash: string | null;
  created_at_ms: number;
}

function toAccount(row: AccountRow): Account {
  return { id: row.id, username: row.username, guest: row.password_hash === null, createdAtMs: row.created_at_ms };
}

/**
 * The dispatcher's users: name and password hash (scrypt), or no password for a guest. One
 * SQLite file in the dispatcher's data dir, beside the catalog.
 */
export class AccountStore {
  readonly #db: Database.Database;
  readonly #statements;
  readonly #guests = new TurnBatch<undefined, Account>((calls) => this.#insertGuests(calls.length));

  constructor(path: string) {
    this.#db = openDatabase(
      path,
      `CREATE TABLE IF NOT EXISTS accounts (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        password_hash TEXT,
        created_at_ms INTEGER NOT NULL
      )`,
    );
    this.#statements = {
      insert: this.#db.prepare(
        'INSERT INTO accounts (id, username, password_hash, created_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT (username) DO NOTHING',
      ),
      byName: this.#db.prepare('SELECT * FROM accounts WHERE username = ?'),
      byId: this.#db.prepare('SELECT * FROM accounts WHERE id = ?'),
    };
  }

  async signUp(username: string, password: string): Promise<Account> {
    const name = username.trim().toLowerCase();
    if (!USERNAME.test(name)) {
      throw new AccountError(
        'bad-username',
        'a user name has 3 to 32 characters: letters, digits, and . _ - (not first)',
      );
    }
    if (password.length < MIN_PASSWORD_CHARS || password.length > MAX_PASSWORD_CHARS) {
      throw new AccountError(
        'bad-password',
        `a password has ${MIN_PASSWORD_CHARS} to ${MAX_PASSWORD_CHARS} characters`,
      );
    }
    const hash = await hashPassword(password);
    const account = this.#insert(name, hash);
    if (!account) throw new AccountError('username-taken', `"${name}" is taken: choose another user name`);
    return account;
  }

  /** A guest: a generated name, no password (the session cookie is its only key). */
  guest(): Promise<Account> {
    return this.#guests.add(undefined);
  }

  /** The guests of one turn in one transaction (a burst of one-click log-ins is one commit). */
  #insertGuests(count: number): Account[] {
    return this.#db.transaction(() =>
      Array.from({ length: count }, () => {
        for (;;) {
          const account = this.#insert(`guest-${randomBytes(5).toString('hex')}`, null);
          if (account) return account;
        }
      }),
    )();
  }

  /** The account for a name and password, or null (the same answer for an unknown name). */
  async logIn(username: string, password: string): Promise<Account | null> {
    const row = this.#statements.byName.get(username.trim().toLowerCase()) as AccountRow | undefined;
    // Hash anyway for an unknown name, so that timing does not tell which names exist.
    const stored = row?.password_hash ?? (await dummyHash());
    const ok = await verifyPassword(password, stored);
    return ok && row?.password_hash ? toAccount(row) : null;
  }

  get(id: string): Account | null {
    const row = this.#statements.byId.get(id) as AccountRow | undefined;
    return row ? toAccount(row) : null;
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  #insert(username: string, hash: string | null): Account | null {
    const id = randomBytes(12).toString('base64url');
    const changes = this.#statements.insert.run(id, username, hash, Date.now()).changes;
    return changes === 1 ? toAccount(this.#statements.byId.get(id) as AccountRow) : null;
  }
}

let dummy: Promise<string> | null = null;
function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  return dummy;
}
