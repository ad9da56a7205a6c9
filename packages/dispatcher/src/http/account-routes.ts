import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AccountError, type AccountStore } from '../accounts/account-store.js';
import type { LoginAttempt, LoginGuard } from '../accounts/login-guard.js';
import type { DispatchService } from '../dispatch/dispatch-service.js';
import type { DispatcherMetrics, LoginKind } from '../ops/metrics.js';
import type { DeviceCookies } from './device-cookie.js';
import { handOver } from './hand-over.js';
import { homePage, loginPage } from './pages.js';
import { safeNext } from './safe-redirect.js';
import { currentUser, type SessionUser, startSession } from './sessions.js';

export interface AccountRouteParts {
  accounts: AccountStore;
  guard: LoginGuard;
  devices: DeviceCookies;
  dispatch: DispatchService;
  metrics: DispatcherMetrics;
  guests: boolean;
}

interface LoginForm {
  username?: unknown;
  password?: unknown;
  next?: unknown;
}

const ACCOUNT_ERROR_STATUS: Record<AccountError['reason'], number> = {
  'username-taken': 409,
  'bad-username': 400,
  'bad-password': 400,
};

/** The front page, sign-up, log-in (throttled), guests and log-out; every POST checks CSRF. */
export function accountRoutes(app: FastifyInstance, parts: AccountRouteParts): void {
  const { accounts, guard, devices, metrics } = parts;
  const guarded = { preHandler: app.csrfProtection };

  const showLogin = (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    extra: { problem?: string; username?: string } = {},
  ) => {
    const next = safeNext((request.body as LoginForm | undefined)?.next ?? (request.query as LoginForm).next, '');
    return reply
      .code(status)
      .type('text/html; charset=utf-8')
      .send(loginPage({ csrf: reply.generateCsrf(), next, guests: parts.guests, ...extra }));
  };

  /** After a log-in: where `next=` says (on this site only), else straight into the peer. */
  const loggedIn = (request: FastifyRequest, reply: FastifyReply, user: SessionUser, kind: LoginKind) => {
    metrics.logins.inc({ kind, outcome: 'ok' });
    startSession(request, user);
    const next = safeNext((request.body as LoginForm).next, '');
    if (next && next !== '/') return reply.redirect(next, 303);
    return handOver(request, reply, user, parts);
  };

  app.get('/', async (request, reply) => {
    const user = currentUser(request);
    if (!user) return showLogin(request, reply, 200);
    const hasPeer = request.session.get('peerId') !== undefined;
    return reply
      .type('text/html; charset=utf-8')
      .send(homePage({ username: user.username, csrf: reply.generateCsrf(), hasPeer }));
  });

  app.post('/login', guarded, async (request, reply) => {
    const form = request.body as LoginForm;
    const username = typeof form.username === 'string' ? form.username.trim().toLowerCase() : '';
    const password = typeof form.password === 'string' ? form.password : '';
    const attempt: LoginAttempt = { username, address: request.ip, device: devices.knownDevice(request, username) };
    const waitMs = guard.retryAfterMs(attempt);
    if (waitMs > 0) {
      metrics.logins.inc({ kind: 'password', outcome: 'throttled' });
      reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
      return showLogin(request, reply, 429, {
        username,
        problem: `Too many failed attempts: try again in ${Math.ceil(waitMs / 1000)} seconds.`,
      });
    }
    const account = username && password ? await accounts.logIn(username, password) : null;
    if (!account) {
      guard.failed(attempt);
      metrics.logins.inc({ kind: 'password', outcome: 'refused' });
      request.log.info({ username, address: attempt.address, knownDevice: attempt.device !== null }, 'log-in refused');
      return showLogin(request, reply, 401, { username, problem: 'Wrong user name or password.' });
    }
    guard.succeeded(attempt);
    devices.remember(request, reply, account.username);
    return loggedIn(request, reply, { uid: account.id, username: account.username, guest: false }, 'password');
  });

  app.post('/signup', guarded, async (request, reply) => {
    const form = request.body as LoginForm;
    const username = typeof form.username === 'string' ? form.username : '';
    try {
      const password = typeof form.password === 'string' ? form.password : '';
      const account = await accounts.signUp(username, password);
      request.log.info({ username: account.username }, 'signed up');
      devices.remember(request, reply, account.username);
      return await loggedIn(request, reply, { uid: account.id, username: account.username, guest: false }, 'signup');
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      metrics.logins.inc({ kind: 'signup', outcome: 'refused' });
      const status = ACCOUNT_ERROR_STATUS[err.reason];
      return showLogin(request, reply, status, { username, problem: `${err.message}.` });
    }
  });

  app.post('/guest', guarded, async (request, reply) => {
    if (!parts.guests)
      return showLogin(request, reply, 403, { problem: 'Guest logins are off here: sign up instead.' });
    const account = await accounts.guest();
    return loggedIn(request, reply, { uid: account.id, username: account.username, guest: true }, 'guest');
  });

  // Through the peer on the way out: it ends its own session in this browser too.
  app.post('/logout', guarded, async (request, reply) => {
    const user = currentUser(request);
    request.session.delete();
    const peerLogout = user ? await parts.dispatch.logoutUrl(user.uid) : null;
    return reply.redirect(peerLogout ?? '/', 303);
  });
}
