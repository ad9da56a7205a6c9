import type { Logger } from 'pino';
import type { DiscoverySettings } from './discovery/discovery-options.js';
import { ConfigError } from './errors.js';
import { MAX_ADDRESSES, MAX_NAME_LENGTH } from './identity/identity-record.js';
import type { SyncMode } from './store/message-store.js';
import { parseHostPort } from './util/address.js';
import type { WebOptions } from './web/web-options.js';

export interface PeerOptions {
  name: string;
  dataDir: string;
  /** Address the two ports listen on. Default: all interfaces. */
  listenHost?: string;
  /** 0 picks a free port. */
  greetingPort?: number;
  securePort?: number;
  /** Hosts (names or IPs, without ports) other peers can reach this one at, sent in greetings. */
  advertisedAddresses?: string[];
  /** Greeting addresses ("host:port") of peers to contact at start. */
  staticPeers?: string[];
  /** How to find other peers: multicast on the LAN, Consul, further directories. */
  discovery?: DiscoverySettings;
  /** The owner's web server (off unless given). */
  web?: WebOptions;
  /** Largest message text this peer sends or accepts, in UTF-8 bytes. */
  maxMessageBytes?: number;
  /** `full` adds an fsync per commit (survives power loss, not just crashes). */
  sync?: SyncMode;
  reconnectMinDelayMs?: number;
  reconnectMaxDelayMs?: number;
  logger?: Logger;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
export const DEFAULT_LISTEN_HOST = '0.0.0.0';

/** PeerOptions with every default filled in. */
export type ResolvedPeerOptions = Required<
  Omit<PeerOptions, 'logger' | 'reconnectMinDelayMs' | 'reconnectMaxDelayMs' | 'web'>
> &
  Pick<PeerOptions, 'reconnectMinDelayMs' | 'reconnectMaxDelayMs' | 'web'> & {
    /** Largest frame accepted on the secure port: one full message plus room for its envelope. */
    maxFrameBytes: number;
  };

/** Checks the options (ConfigError says what is wrong) and fills in the defaults. */
export function resolvePeerOptions(options: PeerOptions): Readonly<ResolvedPeerOptions> {
  if (!options.name.trim()) throw new ConfigError('a peer needs a name');
  if (options.name.length > MAX_NAME_LENGTH) {
    throw new ConfigError(`a peer's name has at most ${MAX_NAME_LENGTH} characters (other peers refuse longer ones)`);
  }
  if ((options.advertisedAddresses?.length ?? 0) > MAX_ADDRESSES) {
    throw new ConfigError(`a peer advertises at most ${MAX_ADDRESSES} addresses`);
  }
  for (const address of options.staticPeers ?? []) {
    if (!parseHostPort(address)) throw new ConfigError(`peer address ${JSON.stringify(address)} is not host:port`);
  }
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < 1) {
    throw new ConfigError(`maxMessageBytes must be a positive whole number, got ${maxMessageBytes}`);
  }
  return Object.freeze({
    name: options.name,
    dataDir: options.dataDir,
    listenHost: options.listenHost ?? DEFAULT_LISTEN_HOST,
    greetingPort: options.greetingPort ?? 0,
    securePort: options.securePort ?? 0,
    advertisedAddresses: [...(options.advertisedAddresses ?? [])],
    staticPeers: [...(options.staticPeers ?? [])],
    discovery: options.discovery ?? {},
    web: options.web,
    maxMessageBytes,
    sync: options.sync ?? 'normal',
    reconnectMinDelayMs: options.reconnectMinDelayMs,
    reconnectMaxDelayMs: options.reconnectMaxDelayMs,
    maxFrameBytes: Math.max(4 * 1024 * 1024, maxMessageBytes + 64 * 1024),
  });
}
