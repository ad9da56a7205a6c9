import { join } from 'node:path';
import { httpGet } from '@p2p-messenger/discovery';
import { loopbackFor } from '@p2p-messenger/peer';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AccountStore } from './accounts/account-store.js';
import { build } from './app.js';
import type { CatalogPeer } from './catalog/catalog.js';
import { EmbeddedCatalog } from './catalog/embedded-catalog.js';
import type { DispatcherConfig } from './config/config.js';
import { type DispatcherSecrets, loadOrCreateSecrets } from './config/secrets.js';
import { DEVICE_COOKIE } from './http/device-cookie.js';
import { SESSION_COOKIE } from './http/sessions.js';
import { LocalProcessOrchestrator } from './orchestrator/local-process-orchestrator.js';
import { EmbeddedRouter } from './router/embedded-router.js';

export interface EmbeddedDispatcher {
  app: FastifyInstance;
  /** Where users open it. */
  url: string;
  secrets: DispatcherSecrets;
}

/**
 * A peer's web server answers its health check. Over node:http, whose kept-alive connections
 * make a round of fifty probes cheap; the global fetch cost the dispatcher more CPU, every few
 * seconds, than a burst of log-ins.
 */
async function webServerAnswers(peer: CatalogPeer): Promise<boolean> {
  const url = new URL(`http://${hostForUrl(peer.address)}:${peer.webPort}/healthz`);
  const { status } = await httpGet(url, {}, AbortSignal.timeout(2_000));
  return status === 200;
}

/**
 * The whole system on one machine: peers as child processes, the catalog and accounts in
 * SQLite files of the data dir, and the dispatcher proxying `/p/<peerId>/` to each peer.
 */
export async function startEmbedded(
  config: DispatcherConfig,
  log: Logger,
  init: { peerCommand?: readonly string[]; reconcileIntervalMs?: number } = {},
): Promise<EmbeddedDispatcher> {
  const secrets = await loadOrCreateSecrets(config.dataDir, config.adminPasswordFile);
  const accounts = new AccountStore(join(config.dataDir, 'accounts.db'));
  const catalog = new EmbeddedCatalog(join(config.dataDir, 'catalog.db'));
  // Read at each peer's start, by when the app listens (and, for port 0, has its port).
  const catalogUrl = () => `http://${loopbackFor(config.host)}:${portOf(app, config.port)}/catalog/v1`;
  const orchestrator = new LocalProcessOrchestrator({
    dataRoot: join(config.dataDir, 'peers'),
    peerSettings: () => ({
      dispatcherKeyFile: secrets.ticketPublicKeyFile,
      catalogUrl: catalogUrl(),
      catalogToken: secrets.catalogToken,
    }),
    ...(init.peerCommand ? { command: init.peerCommand } : {}),
    log,
  });
  const app = await build({
    config,
    secrets,
    log,
    accounts,
    catalog,
    orchestrator,
    router: (fastify) => new EmbeddedRouter(fastify, { dispatcherCookies: [SESSION_COOKIE, DEVICE_COOKIE] }),
    probe: webServerAnswers,
    ...(init.reconcileIntervalMs ? { reconcileIntervalMs: init.reconcileIntervalMs } : {}),
  });
  await app.listen({ host: config.host, port: config.port });
  const url = config.publicUrl ?? `http://${loopbackFor(config.host)}:${portOf(app, config.port)}`;
  return { app, url, secrets };
}

function portOf(app: FastifyInstance, configured: number): number {
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : configured;
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
