export { Bridge, type BridgeAccessPoint, type BridgeInit } from './bridge.js';
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
export { ConsulNetwork, type ConsulNetworkInit } from './local/consul-network.js';
export { InProcessNetwork } from './local/in-process-network.js';
export { type LanMulticast, LanNetwork, type LanNetworkInit } from './local/lan-network.js';
export type { LocalNetwork, LocalNetworkEvents } from './local/local-network.js';
export type { LocatingNetwork } from './local/locating-network.js';
export { GreetingRelay, type GreetingRelayComponents, type GreetingRelayInit } from './relay/greeting-relay.js';
export {
  LocalEgress,
  type LocalEgressComponents,
  type LocalPeerLocation,
  locationOfRecord,
} from './relay/local-egress.js';
export { RelayLimits, type RelayLimitsInit, type RelayRefusal, type Release } from './relay/relay-limits.js';
export { RelayListener, type RelayListenerComponents, type RelayListenerInit } from './relay/relay-listener.js';
export { RelayStats, type RelayStatsSnapshot } from './relay/relay-stats.js';
export { fromEgress, fromFederation, type RelayTargets } from './relay/relay-targets.js';
export { ClientHelloError, type HelloFailure } from './relay/sni-errors.js';
export { readServerName, type SniRead, type SniReadInit } from './relay/sni-reader.js';
export * from './relay-seam.js';
