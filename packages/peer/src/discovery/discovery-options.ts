import type { IpFamily, PeerDirectory } from '@p2p-messenger/discovery';

/** LAN discovery by multicast; every field has a default. */
export interface MulticastSettings {
  families?: IpFamily[];
  interfaces?: string[];
  ipv4Group?: string;
  ipv6Group?: string;
  port?: number;
  intervalMs?: number;
  expiryMs?: number;
}

/** Registration in, and discovery through, a Consul agent. */
export interface ConsulSettings {
  /** The agent, "host:port" or an http(s) URL. */
  agent: string;
  /** The address other peers reach this one at; default: the first advertised address. */
  advertiseAddress?: string;
  serviceName?: string;
  tags?: string[];
  /** A KV prefix: only peers with a key `<prefix><id>` are listed, and none while this peer has none. */
  visibleKeys?: string;
  ttlMs?: number;
  reapAfterMs?: number;
}

/** The catalog of peers a dispatcher serves to the peers it runs. */
export interface CatalogSettings {
  /** Its base URL, http(s); the peers are listed at `<url>/peers`. */
  url: string;
  /** Bearer token the dispatcher gave this peer. */
  token?: string;
}

export interface DiscoverySettings {
  /** Off unless given: tests and embedded peers on one machine should not find strangers. */
  multicast?: MulticastSettings | false;
  consul?: ConsulSettings;
  catalog?: CatalogSettings;
  /** Further directories: the same interface. */
  directories?: PeerDirectory[];
}
