import { join } from 'node:path';
import { Bridge } from '@p2p-messenger/bridge';
import { httpGet } from '@p2p-messenger/discovery';
import { loopbackFor } from '@p2p-messenger/peer';
import Docker from 'dockerode';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AccountStore } from './accounts/account-store.js';
import type { LoginGuardLimits } from './accounts/login-guard.js';
import { build } from './app.js';
import { BridgedPeers } from './bridge/bridged-peers.js';
import { DispatcherNetwork } from './bridge/dispatcher-network.js';
import type { Catalog } from './catalog/catalog.js';
import { ConsulCatalog } from './catalog/consul/consul-catalog.js';
import { peerConsulSettings, peerServiceName } from './catalog/consul/peer-registration.js';
import { EmbeddedCatalog } from './catalog/embedded-catalog.js';
import type { BridgeChoice } from './config/bridge-config.js';
import type { DispatcherConfig } from './config/config.js';
import { type DispatcherSecrets, loadOrCreateSecrets } from './config/secrets.js';
import { DEVICE_COOKIE } from './http/device-cookie.js';
import { SESSION_COOKIE } from './http/sessions.js';
import { LocalProcessOrchestrator, type PeerSettings } from './orchestrator/local-process-orchestrator.js';
import type { Orchestrator } from './orchestrator/orchestrator.js';
import { SwarmOrchestrator, type SwarmPeerSettings } from './orchestrator/swarm/swarm-orchestrator.js';
import type { ProbeTarget } from './pool/warm-pool.js';
import { EmbeddedRouter } from './router/embedded-router.js';
import type { Router } from './router/router.js';
import { TraefikRouter } from './router/traefik-router.js';

export interface EmbeddedDispatcher {
  app: FastifyInstance;
  /** Where users open it. */
  url: string;
  secrets: DispatcherSecrets;
  /** Its own bridge to other networks, when it runs one (stopped when the app closes). */
  bridge: Bridge | null;
}

/**
 * A peer's web server answers its health check. Over node:http, whose kept-alive connections
 * make a round of fifty probes cheap; the global fetch cost the dispatcher more CPU, every few
 * seconds, than a burst of log-ins.
 */
async function webServerAnswers(peer: ProbeTarget): Promise<boolean> {
  const url = new URL(`http://${hostForUrl(peer.address)}:${peer.webPort}/healthz`);
  const { status } = await httpGet(url, {}, AbortSignal.timeout(2_000));
  return status === 200;
}

/**
 * The dispatcher with its embedded router: accounts (and, unless Consul keeps it, the
 * catalog) in SQLite files of the data dir, the dispatcher proxying `/p/<peerId>/` to each peer. Peers are child
 * processes (the whole system on one machine), or Swarm services on the overlay network the
 * dispatcher (itself a Swarm service then) shares with them.
 */
export async function startEmbedded(
  config: DispatcherConfig,
  log: Logger,
  init: { peerCommand?: readonly string[]; reconcileIntervalMs?: number; loginLimits?: LoginGuardLimits } = {},
): Promise<EmbeddedDispatcher> {
  const secrets = await loadOrCreateSecrets(config.dataDir, config.adminPasswordFile);
  const accounts = new AccountStore(join(config.dataDir, 'accounts.db'));
  const catalog = await catalogFor(config, log);
  // Read at each peer's start, by when the app listens (and, for port 0, has its port).
  const catalogUrl = () =>
    `${config.advertiseUrl ?? `http://${loopbackFor(config.host)}:${portOf(app, config.port)}`}/catalog/v1`;
  // With the catalog in Consul, peers register there and find each other through it; else through the dispatcher's catalog.
  const peerDiscovery = () =>
    config.catalog.kind === 'consul'
      ? { consul: peerConsulSettings(config.pool, config.catalog.peersAgent) }
      : { catalogUrl: catalogUrl(), catalogToken: secrets.catalogToken };
  const orchestrator = orchestratorFor(config, log, {
    local: () => ({ dispatcherKeyFile: secrets.ticketPublicKeyFile, ...peerDiscovery() }),
    swarm: () => ({
      ticketPublicKeyPem: secrets.ticketPublicKeyPem,
      ...peerDiscovery(),
      // Behind Traefik a peer has a host of its own: logging out must lead back here, not to its own /.
      ...(config.publicUrl ? { dispatcherUrl: `${config.publicUrl}/` } : {}),
    }),
    ...(init.peerCommand ? { peerCommand: init.peerCommand } : {}),
  });
  // A Swarm that cannot be used fails the start with what to do, rather than a dispatcher that never gets ready.
  if (orchestrator instanceof SwarmOrchestrator) {
    await orchestrator.check().catch(async (err: unknown) => {
      await orchestrator.close();
      await catalog.close();
      accounts.close();
      throw err;
    });
  }
  const bridge = config.bridge
    ? await startBridge(config, config.bridge, catalog, log).catch(async (err: unknown) => {
        await orchestrator.close();
        await catalog.close();
        accounts.close();
        throw err;
      })
    : null;
  const app = await build({
    config,
    secrets,
    log,
    accounts,
    catalog,
    orchestrator,
    router: (fastify) => routerFor(config, fastify, log),
    probe: webServerAnswers,
    ...(init.reconcileIntervalMs ? { reconcileIntervalMs: init.reconcileIntervalMs } : {}),
    ...(init.loginLimits ? { loginLimits: init.loginLimits } : {}),
    ...(bridge ? { bridged: bridge.bridged } : {}),
  });
  // Before the peers stop: its links withdraw them from other networks first.
  if (bridge) app.addHook('onClose', () => bridge.bridge.stop());
  await app.listen({ host: config.host, port: config.port });
  const url = config.publicUrl ?? `http://${loopbackFor(config.host)}:${portOf(app, config.port)}`;
  return { app, url, secrets, bridge: bridge?.bridge ?? null };
}

/**
 * The dispatcher's own bridge: it offers the users' peers to the bridges it trusts and lists
 * theirs to the users' peers, which reach them through its relay ports (on the dispatcher's
 * listening address; at the relay host as the peers see the dispatcher).
 */
async function startBridge(
  config: DispatcherConfig,
  choice: BridgeChoice,
  catalog: Catalog,
  log: Logger,
): Promise<{ bridge: Bridge; bridged: BridgedPeers }> {
  const made: { bridged?: BridgedPeers } = {};
  const relayHost = choice.relayHost ?? (config.advertiseUrl ? new URL(config.advertiseUrl).hostname : null);
  const bridge = await Bridge.start({
    dataDir: join(config.dataDir, 'bridge'),
    name: 'dispatcher',
    listen: choice.listen,
    trust: choice.trust,
    relay: { host: config.host },
    network: (access) => {
      made.bridged = new BridgedPeers({ ...access, host: relayHost ?? loopbackFor(config.host) });
      return new DispatcherNetwork({ catalog, bridged: made.bridged, log });
    },
    log: log.child({ component: 'bridge' }),
  });
  if (!made.bridged) throw new Error('the bridge started without its network');
  return { bridge, bridged: made.bridged };
}

/** The catalog in the data dir, or in Consul KV (checked at once: a wrong --consul stops the start). */
async function catalogFor(config: DispatcherConfig, log: Logger): Promise<Catalog> {
  if (config.catalog.kind === 'embedded') return new EmbeddedCatalog(join(config.dataDir, 'catalog.db'));
  // Healthy only while the peer's own Consul registration passes too (every replica sees the same).
  const catalog = new ConsulCatalog({
    agent: config.catalog.agent,
    pool: config.pool,
    peerService: peerServiceName(config.pool),
    log,
  });
  try {
    await catalog.list();
  } catch (err) {
    await catalog.close();
    throw err;
  }
  return catalog;
}

/** Peers as child processes here, or as Swarm services, as configured. */
function orchestratorFor(
  config: DispatcherConfig,
  log: Logger,
  settings: { local: () => PeerSettings; swarm: () => SwarmPeerSettings; peerCommand?: readonly string[] },
): Orchestrator {
  const chosen = config.orchestrator;
  if (chosen.kind === 'swarm') {
    return new SwarmOrchestrator({
      // Only the configuration's address (docker-modem would read DOCKER_HOST itself otherwise).
      docker: new Docker({ host: undefined, ...chosen.docker }),
      image: chosen.peerImage,
      network: chosen.network,
      pool: config.pool,
      maxConcurrentStarts: config.maxConcurrentStarts,
      peerSettings: settings.swarm,
      log,
    });
  }
  return new LocalProcessOrchestrator({
    dataRoot: join(config.dataDir, 'peers'),
    peerSettings: settings.local,
    ...(settings.peerCommand ? { command: settings.peerCommand } : {}),
    log,
  });
}

/** The dispatcher proxying `/p/<peerId>/`, or Traefik routing a host per peer (Swarm services only). */
function routerFor(config: DispatcherConfig, app: FastifyInstance, log: Logger): Router {
  const { router, orchestrator } = config;
  if (router.kind === 'traefik' && orchestrator.kind === 'swarm') {
    return new TraefikRouter({
      docker: new Docker({ host: undefined, ...orchestrator.docker }),
      peersDomain: router.peersDomain,
      entrypoints: router.entrypoints,
      network: orchestrator.network,
      traefikUrl: router.traefikUrl,
      publicUrl: config.publicUrl,
      log,
    });
  }
  return new EmbeddedRouter(app, { dispatcherCookies: [SESSION_COOKIE, DEVICE_COOKIE] });
}

function portOf(app: FastifyInstance, configured: number): number {
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : configured;
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
