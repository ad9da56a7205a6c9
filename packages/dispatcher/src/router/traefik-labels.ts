/** Where Traefik finds a peer: the host of its own, and the labels of its Swarm service that say so. */
export interface PeerHosts {
  /** Peer <peerId> is at `<peerId>.<peersDomain>`. */
  readonly peersDomain: string;
  /** The Traefik entry points its router listens on (e.g. `web`). */
  readonly entrypoints: readonly string[];
  /** The overlay network on which Traefik reaches the peer's task (dnsrr: no VIP, a task address). */
  readonly network: string;
}

/** The Traefik router and service of a peer: `p2pm-<peerId>` (one per peer, so labels of two never mix). */
export function traefikName(peerId: string): string {
  return `p2pm-${peerId}`;
}

export function peerHost(peerId: string, hosts: Pick<PeerHosts, 'peersDomain'>): string {
  return `${peerId}.${hosts.peersDomain}`;
}

/**
 * The labels of a peer's Swarm service (Spec.Labels) that Traefik v3's Swarm provider reads:
 * a router by host, on the given entry points, to the peer's web port on the peers' network.
 * exposedByDefault is off in deploy/traefik/traefik.yml, hence `traefik.enable`. The router
 * names no service: Traefik gives a router the one service its labels define.
 */
export function traefikLabels(peerId: string, port: number, hosts: PeerHosts): Record<string, string> {
  const name = traefikName(peerId);
  return {
    'traefik.enable': 'true',
    [`traefik.http.routers.${name}.rule`]: `Host(\`${peerHost(peerId, hosts)}\`)`,
    [`traefik.http.routers.${name}.entrypoints`]: hosts.entrypoints.join(','),
    [`traefik.http.services.${name}.loadbalancer.server.port`]: String(port),
    'traefik.swarm.network': hosts.network,
  };
}

/** The label keys `traefikLabels` writes for a peer, to take them off again. */
export function traefikLabelKeys(peerId: string): string[] {
  return Object.keys(traefikLabels(peerId, 0, { peersDomain: '', entrypoints: [], network: '' }));
}
