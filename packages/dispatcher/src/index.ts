export { type Account, AccountError, AccountStore, MIN_PASSWORD_CHARS } from './accounts/account-store.js';
export { LoginThrottle } from './accounts/login-throttle.js';
export { hashPassword, MAX_PASSWORD_CHARS, verifyPassword } from './accounts/passwords.js';
export type { Catalog, CatalogPeer, NewCatalogPeer } from './catalog/catalog.js';
export { EmbeddedCatalog } from './catalog/embedded-catalog.js';
export { safeNext } from './http/safe-redirect.js';
export {
  type LocalProcessOptions,
  LocalProcessOrchestrator,
  PeerStartError,
} from './orchestrator/local-process-orchestrator.js';
export type { Orchestrator, OrchestratorEvents, PeerInstance } from './orchestrator/orchestrator.js';
export { type PoolStats, WarmPool, type WarmPoolOptions } from './pool/warm-pool.js';
export { EmbeddedRouter } from './router/embedded-router.js';
export type { Router, RouteTarget } from './router/router.js';
