import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import secureSession from '@fastify/secure-session';
import type { FastifyInstance, FastifyRequest } from 'fastify';

declare module '@fastify/secure-session' {
  interface SessionData {
    /** The account (AccountStore id). */
    uid: string;
    username: string;
    guest: boolean;
    /** The peer handed to the user (their credentials for it are tickets, made per visit). */
    peerId: string;
    /** The CSRF secret of @fastify/csrf-protection. */
    _csrf: string;
  }
}

export interface SessionUser {
  uid: string;
  username: string;
  guest: boolean;
}

export const SESSION_COOKIE = 'p2pm_session';
/** A month: for a guest the cookie is the account itself. */
const SESSION_SECONDS = 30 * 24 * 60 * 60;

/**
 * Sessions live in the cookie, encrypted and authenticated (secretbox) with the dispatcher's
 * session key, so a dispatcher restart keeps everyone logged in and a tampered cookie is just
 * no session. Every state-changing form carries a CSRF token tied to the session.
 */
export async function registerSessions(app: FastifyInstance, init: { key: Buffer; secure: boolean }): Promise<void> {
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  await app.register(secureSession, {
    key: init.key,
    cookieName: SESSION_COOKIE,
    expiry: SESSION_SECONDS,
    cookie: { path: '/', httpOnly: true, sameSite: 'lax', secure: init.secure, maxAge: SESSION_SECONDS },
  });
  await app.register(csrf, {
    sessionPlugin: '@fastify/secure-session',
    // Forms send `_csrf`; nothing else is accepted (no query strings: they leak into logs).
    getToken: (request) => (request.body as { _csrf?: string } | undefined)?._csrf,
  });
}

export function currentUser(request: FastifyRequest): SessionUser | null {
  const { session } = request;
  const uid = session.get('uid');
  const username = session.get('username');
  if (!uid || !username) return null;
  return { uid, username, guest: session.get('guest') === true };
}

/** A new session for a user who just logged in (a fresh cookie: no fixation of an old one). */
export function startSession(request: FastifyRequest, user: SessionUser): void {
  request.session.regenerate();
  request.session.set('uid', user.uid);
  request.session.set('username', user.username);
  request.session.set('guest', user.guest);
}
