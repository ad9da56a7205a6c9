export { type Account, AccountError, AccountStore, MIN_PASSWORD_CHARS } from './accounts/account-store.js';
export { type LoginAttempt, LoginGuard, type LoginGuardLimits } from './accounts/login-guard.js';
export { LoginThrottle, type ThrottleLimits } from './accounts/login-throttle.js';
export { hashPassword, MAX_PASSWORD_CHARS, verifyPassword } from './accounts/passwords.js';
export { build, type DispatcherParts } from './app.js';
export { type BridgeAccess, BridgedPeers } from './bridge/bridged-peers.js';
export { DispatcherNetwork, type DispatcherNetworkInit, type IdentifyPeer } from './bridge/dispatcher-network.js';
export type { Catalog, CatalogEvents, CatalogPeer, NewCatalogPeer } from './catalog/catalog.js';
export { ConsulCatalog, type ConsulCatalogOptions } from './catalog/consul/consul-catalog.js';
export { ConsulUnavailableError } from './catalog/consul/consul-kv.js';
export { EmbeddedCatalog } from './catalog/embedded-catalog.js';
export { type DispatcherConfig, parseDispatcherCommand } from './config/config.js';
export { type DispatcherSecrets, loadOrCreateSecrets } from './config/secrets.js';
export { DispatchService, type WaitProgress } from './dispatch/dispatch-service.js';
export { type EmbeddedDispatcher, startEmbedded } from './embedded.js';
export { DispatcherConfigError, DispatcherError, PeersUnavailableError, TooBusyError } from './errors.js';
export { DEVICE_COOKIE, DeviceCookies } from './http/device-cookie.js';
export { safeNext } from './http/safe-redirect.js';
export { DispatcherMetrics } from './ops/metrics.js';
export { MetricsListener } from './ops/metrics-listener.js';
export {
  type LocalProcessOptions,
  LocalProcessOrchestrator,
  type PeerSettings,
} from './orchestrator/local-process-orchestrator.js';
export {
  type Orchestrator,
  type OrchestratorEvents,
  type PeerInstance,
  type PeerSpec,
  PeerStartError,
} from './orchestrator/orchestrator.js';
export { LABELS as SWARM_LABELS, serviceName, volumeName } from './orchestrator/swarm/service-spec.js';
export {
  DockerUnreachableError,
  ImageMissingError,
  NetworkMissingError,
  NotSwarmManagerError,
  SwarmError,
  TaskFailedError,
  TaskPendingError,
} from './orchestrator/swarm/swarm-errors.js';
export {
  SwarmOrchestrator,
  type SwarmOrchestratorOptions,
  type SwarmPeerSettings,
} from './orchestrator/swarm/swarm-orchestrator.js';
export { type PoolStats, type StartFailure, WarmPool, type WarmPoolOptions } from './pool/warm-pool.js';
export { EmbeddedRouter } from './router/embedded-router.js';
export type { Router, RouteTarget } from './router/router.js';
export { changeServiceLabels } from './router/service-labels.js';
export { traefikLabels } from './router/traefik-labels.js';
export { RouteNotLiveError, TraefikRouter, type TraefikRouterInit } from './router/traefik-router.js';
