import { drainRefusedBodies } from '@p2p-messenger/peer';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { AccountStore } from './accounts/account-store.js';
import { LoginGuard, type LoginGuardLimits } from './accounts/login-guard.js';
import type { BridgedPeers } from './bridge/bridged-peers.js';
import type { Catalog } from './catalog/catalog.js';
import type { DispatcherConfig } from './config/config.js';
import type { DispatcherSecrets } from './config/secrets.js';
import { DispatchService } from './dispatch/dispatch-service.js';
import { accountRoutes } from './http/account-routes.js';
import { adminRoutes } from './http/admin-routes.js';
import { assetRoutes } from './http/assets.js';
import { catalogApi } from './http/catalog-api.js';
import { DeviceCookies } from './http/device-cookie.js';
import { dispatchRoutes } from './http/dispatch-routes.js';
import { fromPage, securityHeaders } from './http/html.js';
import { opsRoutes } from './http/ops-routes.js';
import { errorPage, messagePage } from './http/pages.js';
import { registerSessions } from './http/sessions.js';
import { DispatcherMetrics } from './ops/metrics.js';
import { MetricsListener } from './ops/metrics-listener.js';
import type { Orchestrator } from './orchestrator/orchestrator.js';
import { type ProbeTarget, WarmPool } from './pool/warm-pool.js';
import type { Router } from './router/router.js';

/** What the dispatcher is made of; the embedded and the cloud setups pass different ones. */
export interface DispatcherParts {
  config: DispatcherConfig;
  secrets: DispatcherSecrets;
  log: Logger;
  accounts: AccountStore;
  catalog: Catalog;
  orchestrator: Orchestrator;
  /** Makes the router; the embedded one proxies through the app itself. */
  router: (app: FastifyInstance) => Router;
  /** Whether a running peer answers; see WarmPool. */
  probe?: (peer: ProbeTarget) => Promise<boolean>;
  reconcileIntervalMs?: number;
  /** How log-ins are slowed down, beyond the configured budgets (e.g. longer locks). */
  loginLimits?: LoginGuardLimits;
  /** Peers of other networks that the dispatcher's bridge advertises, listed to users' peers. */
  bridged?: BridgedPeers;
}

declare module 'fastify' {
  interface FastifyInstance {
    dispatcher: {
      pool: WarmPool;
      dispatch: DispatchService;
      catalog: Catalog;
      metrics: DispatcherMetrics;
      /** Where /metrics is served when it has a port of its own. */
      metricsListener: MetricsListener | null;
    };
  }
}

/**
 * The dispatcher as a Fastify app: pages, sessions, dispatch, admin, the peers' catalog, ops.
 * The pool starts once the app listens (peers need the catalog's address) and everything
 * stops, peers included, when the app closes.
 */
export async function build(parts: DispatcherParts): Promise<FastifyInstance> {
  const { config, secrets, accounts, catalog, orchestrator } = parts;
  const app = Fastify({
    loggerInstance: parts.log.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    // Two synchronous log lines per request cost more than a log-in itself; what matters is logged by the handlers.
    logController: new LogController({ disableRequestLogging: true }),
    // Event streams never go idle: closing ends them rather than waiting.
    forceCloseConnections: true,
    // Behind a proxy, the client's address is X-Forwarded-For's only where that proxy is trusted.
    trustProxy: config.trustProxy ? [...config.trustProxy] : false,
  });
  const router = parts.router(app);
  drainRefusedBodies(app);
  const secure = (config.publicUrl ?? '').startsWith('https:');
  await registerSessions(app, { key: secrets.sessionKey, secure });
  const headers = securityHeaders(router.formTargets);
  app.addHook('onSend', async (_request, reply) => {
    reply.headers(headers);
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });

  const log = parts.log;
  const pool = new WarmPool({
    orchestrator,
    catalog,
    target: config.poolTarget,
    maxConcurrentStarts: config.maxConcurrentStarts,
    router,
    probe: parts.probe,
    reconcileIntervalMs: parts.reconcileIntervalMs,
    log,
  });
  const metrics = new DispatcherMetrics(() => pool.stats());
  pool.on('ready', (_instance, startMs) => metrics.spawnSeconds.observe(startMs / 1000));
  const dispatch = new DispatchService({
    catalog,
    pool,
    router,
    ticketKey: secrets.ticketKey,
    maxWaitingUsers: config.maxWaitingUsers,
    log,
  });
  pool.on('stalled', (failure) => void dispatch.startsFailed(failure));
  const metricsListener = config.metrics ? new MetricsListener(metrics, config.metrics) : null;
  app.decorate('dispatcher', { pool, dispatch, catalog, metrics, metricsListener });

  assetRoutes(app);
  accountRoutes(app, {
    accounts,
    guard: new LoginGuard({
      ...parts.loginLimits,
      account: { ...parts.loginLimits?.account, freeAttempts: config.loginAccountAttempts },
      address: { ...parts.loginLimits?.address, freeAttempts: config.loginAddressAttempts },
    }),
    devices: new DeviceCookies({ sessionKey: secrets.sessionKey, secure }),
    dispatch,
    metrics,
    guests: config.guests,
  });
  dispatchRoutes(app, { dispatch, metrics });
  adminRoutes(app, { user: config.adminUser, password: secrets.adminPassword, catalog, orchestrator, pool, accounts });
  catalogApi(app, { catalog, token: secrets.catalogToken, bridged: parts.bridged });
  opsRoutes(app, {
    metrics,
    ready: () => pool.resumed,
    trouble: () => {
      const failure = pool.startFailure;
      return failure ? `peers cannot be started: ${failure.error.message}` : null;
    },
    admin: { user: config.adminUser, password: secrets.adminPassword },
    metricsElsewhere: metricsListener !== null,
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err.code?.startsWith('FST_CSRF')) {
      request.log.warn({ code: err.code }, 'form without a valid CSRF token');
      return reply
        .code(403)
        .type('text/html; charset=utf-8')
        .send(
          messagePage(
            'Expired form',
            'This form has expired or did not come from this site. Go back, reload the page and try again.',
            { href: '/', label: 'Start page' },
          ),
        );
    }
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err }, 'request failed');
    // A person sent one of the pages' forms (or opened a page): they get a page, scripts get JSON.
    if (fromPage(request)) return reply.code(status).type('text/html; charset=utf-8').send(errorPage(status));
    return reply
      .code(status)
      .send({ error: status >= 500 ? 'something went wrong on our side; try again' : err.message });
  });

  // Before the main port opens: a metrics port that cannot be had fails the start.
  app.addHook('onReady', async () => {
    await metricsListener?.listen();
  });
  app.addHook('onListen', async () => {
    void pool.start().catch((err: unknown) => log.error({ err }, 'the pool did not start'));
  });
  app.addHook('onClose', async () => {
    await metricsListener?.close();
    dispatch.close();
    pool.stop();
    // Peers still starting are stopped, not waited for: a shutdown takes seconds, not a start's worth.
    await orchestrator.close();
    await pool.settled();
    await catalog.close();
    accounts.close();
  });
  return app;
}
