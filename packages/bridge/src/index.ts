export { type BridgeIdentity, loadBridgeIdentity } from './federation/bridge-identity.js';
export {
  BridgeIdentityError,
  FederationConfigError,
  FederationListenError,
  LinkClosedError,
  LinkProtocolError,
  LinkTimeoutError,
} from './federation/errors.js';
export { Federation, type FederationEvents, type FederationInit } from './federation/federation.js';
export type { JoinTarget } from './federation/link-dialer.js';
export type { LinkState } from './federation/link-state.js';
export { FederationMetrics, type FederationRefusal } from './federation/metrics.js';
export { type Advert, type RemoteChange, RouteAdvertError, RouteTable } from './federation/route-table.js';
export { InProcessNetwork } from './local/in-process-network.js';
export type { LocalNetwork, LocalNetworkEvents } from './local/local-network.js';
export * from './relay-seam.js';
