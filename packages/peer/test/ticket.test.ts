import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { issueTicket, redeemTicket, type TicketError, UsedTickets } from '../src/web/ticket.js';

const dispatcher = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');
const PEER = 'abcdefghijklmnopqrstuvwxyz234567';
const check = (used = new UsedTickets(), now?: number) => ({
  dispatcherKey: dispatcher.publicKey,
  peerId: PEER,
  used,
  ...(now === undefined ? {} : { now }),
});

function problemOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    return (err as TicketError).problem;
  }
  throw new Error('expected the ticket to be refused');
}

describe('tickets into a peer', () => {
  it('open the peer they were issued for, once', () => {
    const used = new UsedTickets();
    const ticket = issueTicket(dispatcher.privateKey, { peerId: PEER, owner: 'user-1' });
    expect(redeemTicket(ticket, check(used))).toMatchObject({ peer: PEER, owner: 'user-1' });
    expect(problemOf(() => redeemTicket(ticket, check(used)))).toBe('replayed');
  });

  it('refuse forged, tampered, misdirected, stale and over-long tickets', () => {
    const forged = issueTicket(stranger.privateKey, { peerId: PEER, owner: 'user-1' });
    expect(problemOf(() => redeemTicket(forged, check()))).toBe('bad-signature');

    const [body, signature] = issueTicket(dispatcher.privateKey, { peerId: PEER, owner: 'user-1' }).split('.');
    const claims = JSON.parse(Buffer.from(body as string, 'base64url').toString());
    const tamperedBody = Buffer.from(JSON.stringify({ ...claims, owner: 'user-2' })).toString('base64url');
    expect(problemOf(() => redeemTicket(`${tamperedBody}.${signature}`, check()))).toBe('bad-signature');

    const elsewhere = issueTicket(dispatcher.privateKey, { peerId: 'b'.repeat(32), owner: 'user-1' });
    expect(problemOf(() => redeemTicket(elsewhere, check()))).toBe('wrong-peer');

    const old = issueTicket(dispatcher.privateKey, { peerId: PEER, owner: 'u', now: Date.now() - 60_000 });
    expect(problemOf(() => redeemTicket(old, check()))).toBe('expired');

    const future = issueTicket(dispatcher.privateKey, { peerId: PEER, owner: 'u', now: Date.now() + 60_000 });
    expect(problemOf(() => redeemTicket(future, check()))).toBe('not-yet-valid');

    const forever = issueTicket(dispatcher.privateKey, { peerId: PEER, owner: 'u', ttlMs: 3_600_000 });
    expect(problemOf(() => redeemTicket(forever, check()))).toBe('too-long-lived');
  });

  it('refuse malformed input without throwing anything but a TicketError', () => {
    const signedGarbage = (body: string) =>
      `${body}.${sign(null, Buffer.from(`p2pm-ticket-v1.${body}`), dispatcher.privateKey).toString('base64url')}`;
    for (const bad of [
      '',
      'no-dot',
      'a.b.c',
      '.sig',
      'x'.repeat(5_000),
      signedGarbage('not-json'),
      signedGarbage(Buffer.from('{"v":2}').toString('base64url')),
      signedGarbage(Buffer.from('null').toString('base64url')),
    ]) {
      expect(problemOf(() => redeemTicket(bad, check()))).toMatch(/malformed|bad-signature/);
    }
  });

  it('forget used tickets once they have expired, and keep a bounded list', () => {
    const used = new UsedTickets(3);
    const now = Date.now();
    expect(used.use('a', now + 1_000, now)).toBe(true);
    expect(used.use('a', now + 1_000, now)).toBe(false);
    // Long after the expiry (and the allowed clock skew) it is forgotten: it could not pass anyway.
    expect(used.use('b', now + 60_000, now + 30_000)).toBe(true);
    expect(used.use('a', now + 1_000, now + 30_000)).toBe(true);
  });
});
