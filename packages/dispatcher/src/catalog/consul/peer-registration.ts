/** How the pool's peers register in Consul (and so find each other there). */
export interface PeerConsulSettings {
  /** The agent as the peers reach it (host:port or an http(s) origin). */
  agent: string;
  /** The pool's Consul service: every peer of the pool is an instance of it. */
  serviceName: string;
  /** Say the project and the pool, for operators and routers filtering by tag. */
  tags: string[];
  /**
   * The KV prefix of the claimed peers (`<prefix><peerId>`, kept by ConsulCatalog): a peer sees
   * only those, and nobody while it is a spare, as with the dispatcher's own catalog.
   */
  visibleKeys: string;
}

/** The project's tag on every peer registration. */
export const PROJECT_TAG = 'p2p-messenger';

/**
 * The pool's service name, `p2pm-peer-<pool>`: a DNS label, as Consul wants its service names
 * (a pool name may hold `.` or `_`; its exact spelling is in the `p2pm-pool=` tag).
 */
export function peerServiceName(pool: string): string {
  return `p2pm-peer-${pool.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.slice(0, 63);
}

/** The pool's part of Consul KV: its catalog, and the keys of its claimed peers. */
export function poolKvPrefix(pool: string): string {
  return `p2p-messenger/pools/${pool}/`;
}

export function claimedKvPrefix(pool: string): string {
  return `${poolKvPrefix(pool)}claimed/`;
}

export function peerConsulSettings(pool: string, agent: string): PeerConsulSettings {
  return {
    agent,
    serviceName: peerServiceName(pool),
    tags: [PROJECT_TAG, `p2pm-pool=${pool}`],
    visibleKeys: claimedKvPrefix(pool),
  };
}
