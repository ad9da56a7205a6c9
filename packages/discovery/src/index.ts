export { type BackoffInit, backoffDelay } from './backoff.js';
export { base32Decode, base32Encode } from './base32.js';
export type { CatalogEntry } from './catalog/catalog-answer.js';
export { CatalogHttpDirectory, type CatalogHttpOptions } from './catalog/catalog-http-directory.js';
export { ConsulDirectory, type ConsulOptions } from './consul/consul-directory.js';
export { ConsulReader, type ConsulReaderOptions } from './consul/consul-reader.js';
export { ConsulRelayEntries, type ConsulRelayEntriesOptions } from './consul/consul-relay-entries.js';
export { RELAY_TAG, type RelayAccess, type RelayedPeerEntry, relayServiceId } from './consul/relay-record.js';
export { DEFAULT_SERVICE_NAME } from './consul/service-record.js';
export {
  copyPeer,
  DirectoryBase,
  type DirectoryEvents,
  type DirectoryPeer,
  type DirectorySource,
  type LostReason,
  type PeerDirectory,
  type RelayRoute,
} from './directory.js';
export {
  CatalogTokenError,
  CatalogUnavailableError,
  DiscoveryConfigError,
  DiscoveryStartError,
  KeyUnavailableError,
} from './errors.js';
export type { AnnouncementSigner, Contact, GreetedPeer, Greeter, LocalPeerInfo } from './host.js';
export { httpGet } from './http-get.js';
export { MergedDirectory, type MergedPeer } from './merged-directory.js';
export { decodeAnnouncement, encodeAnnouncement, MAX_DATAGRAM_BYTES } from './multicast/announcement-codec.js';
export { type IpFamily, multicastInterfaces } from './multicast/interfaces.js';
export {
  MULTICAST_DEFAULTS,
  MulticastDirectory,
  type MulticastOptions,
  type MulticastStats,
} from './multicast/multicast-directory.js';
export type { RelaySource } from './multicast/relay-announcer.js';
export { StaticDirectory, type StaticOptions } from './static-directory.js';
