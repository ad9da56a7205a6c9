import { createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import { redeemTicket, type TicketClaims, UsedTickets } from './ticket.js';

/** How long an owner stays logged in to their peer after a ticket or login link. */
export const OWNER_SESSION_MS = 12 * 60 * 60 * 1000;
const LOGIN_LINK_MS = 10 * 60 * 1000;

interface OwnerSession {
  owner: string;
  expiresAtMs: number;
}

/**
 * Who may use this peer's web UI: its owner only. An owner comes in with a dispatcher ticket
 * (checked with the dispatcher's public key) or, for a standalone peer, a one-time login link,
 * and leaves with a random session token that the server keeps (the cookie holds only that).
 */
export class OwnerAccess {
  readonly #peerId: string;
  readonly #dispatcherKey: KeyObject | null;
  readonly #used = new UsedTickets();
  readonly #sessions = new Map<string, OwnerSession>();
  readonly #loginLinks = new Map<string, number>();

  constructor(peerId: string, dispatcherKeyPem: string | undefined) {
    this.#peerId = peerId;
    this.#dispatcherKey = dispatcherKeyPem ? createPublicKey(dispatcherKeyPem) : null;
  }

  /** A one-time login token for the owner at the terminal (standalone peers). */
  loginLink(now = Date.now()): string {
    const token = randomBytes(24).toString('base64url');
    this.#loginLinks.set(token, now + LOGIN_LINK_MS);
    return token;
  }

  /** Trades a ticket for a session token; throws TicketError when it does not open this peer. */
  redeemTicket(ticket: string, now = Date.now()): { token: string; claims: TicketClaims } {
    if (!this.#dispatcherKey) throw new Error('this peer takes no dispatcher tickets');
    const claims = redeemTicket(ticket, {
      dispatcherKey: this.#dispatcherKey,
      peerId: this.#peerId,
      used: this.#used,
      now,
    });
    return { token: this.#open(claims.owner, now), claims };
  }

  /** Trades a login link's token for a session token, once; null if unknown or stale. */
  redeemLoginLink(token: string, now = Date.now()): string | null {
    const until = this.#loginLinks.get(token);
    this.#loginLinks.delete(token);
    if (until === undefined || until < now) return null;
    return this.#open('owner', now);
  }

  /** The owner a session token belongs to, or null. */
  ownerOf(token: string | undefined, now = Date.now()): string | null {
    if (!token) return null;
    const session = this.#sessions.get(token);
    if (!session || session.expiresAtMs < now) {
      this.#sessions.delete(token ?? '');
      return null;
    }
    return session.owner;
  }

  /** Ends a session (the owner logged out); unknown tokens are ignored. */
  revoke(token: string | undefined): void {
    if (token) this.#sessions.delete(token);
  }

  #open(owner: string, now: number): string {
    const token = randomBytes(32).toString('base64url');
    this.#sessions.set(token, { owner, expiresAtMs: now + OWNER_SESSION_MS });
    return token;
  }
}
