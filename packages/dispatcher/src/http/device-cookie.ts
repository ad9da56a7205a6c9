import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const DEVICE_COOKIE = 'p2pm_device';
/** How long a browser stays known after its last good log-in. */
const DEVICE_SECONDS = 180 * 24 * 60 * 60;
/** Accounts one browser is known for (the most recent ones). */
const MAX_ACCOUNTS = 8;

interface DeviceClaims {
  /** A random id of this browser. */
  d: string;
  /** Accounts it logged in to with their passwords, most recent last. */
  u: string[];
  /** When it last did (ms). */
  t: number;
}

/**
 * A signed cookie that says "this browser logged in to these accounts with their passwords
 * before". It opens nothing by itself: it only gives the browser a throttling budget of its
 * own (see LoginGuard), so that an owner is not locked out of an account someone else is
 * guessing at. Signed with a key derived from the session key; it survives log-outs.
 */
export class DeviceCookies {
  readonly #key: Buffer;
  readonly #secure: boolean;

  constructor(init: { sessionKey: Buffer; secure: boolean }) {
    this.#key = Buffer.from(hkdfSync('sha256', init.sessionKey, Buffer.alloc(0), 'p2pm device cookie v1', 32));
    this.#secure = init.secure;
  }

  /** The id of this browser if its cookie vouches for `username`, else null. */
  knownDevice(request: FastifyRequest, username: string, now = Date.now()): string | null {
    const claims = this.#read(request.cookies[DEVICE_COOKIE], now);
    return claims?.u.includes(username) ? claims.d : null;
  }

  /** After a good password: this browser is known for `username` from now on. */
  remember(request: FastifyRequest, reply: FastifyReply, username: string, now = Date.now()): void {
    const claims = this.#read(request.cookies[DEVICE_COOKIE], now) ?? {
      d: randomBytes(12).toString('base64url'),
      u: [],
    };
    const accounts = [...claims.u.filter((u) => u !== username), username].slice(-MAX_ACCOUNTS);
    const payload = Buffer.from(JSON.stringify({ d: claims.d, u: accounts, t: now })).toString('base64url');
    reply.setCookie(DEVICE_COOKIE, `${payload}.${this.#mac(payload)}`, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: this.#secure,
      maxAge: DEVICE_SECONDS,
    });
  }

  #read(value: string | undefined, now: number): DeviceClaims | null {
    const [payload, mac, ...rest] = (value ?? '').split('.');
    if (!payload || !mac || rest.length > 0) return null;
    const expected = Buffer.from(this.#mac(payload), 'base64url');
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as DeviceClaims;
      const fresh = typeof claims.t === 'number' && now - claims.t < DEVICE_SECONDS * 1000;
      const wellFormed = typeof claims.d === 'string' && Array.isArray(claims.u);
      return fresh && wellFormed ? claims : null;
    } catch {
      return null;
    }
  }

  #mac(payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url');
  }
}
