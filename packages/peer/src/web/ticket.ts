import { type KeyObject, randomBytes, sign, verify } from 'node:crypto';

/**
 * Tickets hand a user into their own peer: the dispatcher signs one (Ed25519) for one peer
 * and one owner, valid for seconds and once; the peer checks it with the dispatcher's public
 * key, which it was given at start, and then sets its own cookie.
 * Form: base64url(JSON claims) "." base64url(signature over "p2pm-ticket-v1." + that first part).
 */
export interface TicketClaims {
  v: 1;
  /** The peer the ticket opens. */
  peer: string;
  /** Who it is for (the dispatcher's user id). */
  owner: string;
  /** The user's name, which the peer then shows other peers. */
  name?: string;
  /** Issued and expiry times, ms since the epoch. */
  iat: number;
  exp: number;
  /** Unique per ticket: a peer accepts each once. */
  jti: string;
}

export type TicketProblem =
  | 'malformed'
  | 'bad-signature'
  | 'wrong-peer'
  | 'expired'
  | 'not-yet-valid'
  | 'too-long-lived'
  | 'replayed';

/** A ticket that does not open this peer; `problem` says why (for logs, not for the visitor). */
export class TicketError extends Error {
  override name = 'TicketError';
  constructor(
    readonly problem: TicketProblem,
    message: string,
  ) {
    super(message);
  }
}

const CONTEXT = 'p2pm-ticket-v1.';
export const DEFAULT_TICKET_TTL_MS = 30_000;
/** Longer-lived tickets are refused: a leaked link must go stale quickly. */
export const MAX_TICKET_TTL_MS = 120_000;
/** Clocks of the dispatcher and its peers may differ by this much. */
const CLOCK_SKEW_MS = 5_000;
const MAX_TICKET_CHARS = 1_024;

export function issueTicket(
  dispatcherKey: KeyObject,
  init: { peerId: string; owner: string; name?: string; ttlMs?: number; now?: number },
): string {
  const iat = init.now ?? Date.now();
  const claims: TicketClaims = {
    v: 1,
    peer: init.peerId,
    owner: init.owner,
    ...(init.name ? { name: init.name } : {}),
    iat,
    exp: iat + (init.ttlMs ?? DEFAULT_TICKET_TTL_MS),
    jti: randomBytes(16).toString('base64url'),
  };
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${body}.${sign(null, Buffer.from(CONTEXT + body), dispatcherKey).toString('base64url')}`;
}

/**
 * Remembers the tickets already used until they expire, so that none is accepted twice.
 * Bounded: past `max` live entries the oldest go (10,000 tickets for one peer within one
 * ticket lifetime would be needed to push out one that is still valid).
 */
export class UsedTickets {
  readonly #used = new Map<string, number>();
  readonly #max: number;

  constructor(max = 10_000) {
    this.#max = max;
  }

  /** Records a ticket id; false if it was already used. */
  use(jti: string, exp: number, now = Date.now()): boolean {
    for (const [id, until] of this.#used) {
      if (until + CLOCK_SKEW_MS >= now && this.#used.size < this.#max) break;
      this.#used.delete(id);
    }
    if (this.#used.has(jti)) return false;
    this.#used.set(jti, exp);
    return true;
  }
}

/** Checks a ticket for `peerId`; returns its claims, or throws TicketError. Uses it up. */
export function redeemTicket(
  ticket: string,
  check: { dispatcherKey: KeyObject; peerId: string; used: UsedTickets; now?: number },
): TicketClaims {
  const now = check.now ?? Date.now();
  if (typeof ticket !== 'string' || ticket.length > MAX_TICKET_CHARS) throw malformed('not a ticket');
  const [body, signature, extra] = ticket.split('.');
  if (!body || !signature || extra !== undefined) throw malformed('not a ticket');
  if (!verify(null, Buffer.from(CONTEXT + body), check.dispatcherKey, Buffer.from(signature, 'base64url'))) {
    throw new TicketError('bad-signature', 'the ticket was not signed by this peer’s dispatcher');
  }
  const claims = parseClaims(body);
  if (claims.peer !== check.peerId) throw new TicketError('wrong-peer', 'the ticket is for another peer');
  if (claims.exp - claims.iat > MAX_TICKET_TTL_MS) {
    throw new TicketError('too-long-lived', 'the ticket lives longer than any ticket may');
  }
  if (claims.iat > now + CLOCK_SKEW_MS) throw new TicketError('not-yet-valid', 'the ticket was issued in the future');
  if (claims.exp + CLOCK_SKEW_MS < now) throw new TicketError('expired', 'the ticket has expired');
  if (!check.used.use(claims.jti, claims.exp, now)) throw new TicketError('replayed', 'the ticket was already used');
  return claims;
}

function parseClaims(body: string): TicketClaims {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw malformed('the ticket’s claims are not JSON');
  }
  const c = value as Partial<TicketClaims>;
  const ok =
    c?.v === 1 &&
    typeof c.peer === 'string' &&
    typeof c.owner === 'string' &&
    c.owner.length > 0 &&
    (c.name === undefined || (typeof c.name === 'string' && c.name.length > 0 && c.name.length <= 64)) &&
    Number.isSafeInteger(c.iat) &&
    Number.isSafeInteger(c.exp) &&
    typeof c.jti === 'string' &&
    c.jti.length >= 16;
  if (!ok) throw malformed('the ticket’s claims are incomplete');
  return c as TicketClaims;
}

function malformed(message: string): TicketError {
  return new TicketError('malformed', message);
}
