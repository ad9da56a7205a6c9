import type { BackoffInit } from '@p2p-messenger/discovery';
import { isPeerId } from '@p2p-messenger/peer';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { LocalNetwork } from '../local/local-network.js';
import type { RelayEgress } from '../relay-seam.js';
import { FederationConfigError } from './errors.js';
import type { LinkKeepalive } from './link-credentials.js';
import type { JoinTarget } from './link-dialer.js';

export interface FederationInit {
  /** Where the bridge keeps its key pair (created on first start). */
  dataDir: string;
  /** The bridge's name in its record (default "bridge"). */
  name?: string;
  /** Address of the federation port; port 0 picks one. Omit to accept no links (dial only). */
  listen?: { host: string; port: number };
  /** Ids of bridges allowed to link to us. */
  trust?: readonly string[];
  /** Bridges we dial and keep a link to. */
  join?: readonly JoinTarget[];
  localNetwork: LocalNetwork;
  /** The relay side's egress to local peers (can be set later with setEgress). */
  egress?: RelayEgress;
  log: Logger;
  registry?: Registry;
  backoff?: BackoffInit;
  handshakeTimeoutMs?: number;
  /** gRPC keepalive of links, both ways (default: a ping after 10 s quiet, 5 s to answer). */
  keepalive?: LinkKeepalive;
}

/** Refuses what the federation cannot use, saying which setting is wrong. */
export function checkConfig(init: FederationInit): void {
  for (const id of init.trust ?? []) {
    if (!isPeerId(id)) throw new FederationConfigError(`--trust ${JSON.stringify(id)} is not a bridge id`);
  }
  const joined = new Set<string>();
  for (const target of init.join ?? []) {
    if (joined.has(target.bridgeId)) throw new FederationConfigError(`--join names bridge ${target.bridgeId} twice`);
    joined.add(target.bridgeId);
    if (!isPeerId(target.bridgeId)) {
      throw new FederationConfigError(`--join ${JSON.stringify(target.bridgeId)} does not start with a bridge id`);
    }
    if (!target.host || !Number.isInteger(target.port) || target.port < 1 || target.port > 65_535) {
      throw new FederationConfigError(
        `--join ${target.bridgeId}@${target.host}:${target.port} needs a host and a port`,
      );
    }
  }
  const listen = init.listen;
  if (listen && (!Number.isInteger(listen.port) || listen.port < 0 || listen.port > 65_535)) {
    throw new FederationConfigError(`the federation port ${listen.port} is not a port number`);
  }
}
