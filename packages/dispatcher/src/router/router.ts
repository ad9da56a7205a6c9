/** Where a peer's web server listens, for the router to send its owner there. */
export interface RouteTarget {
  host: string;
  port: number;
}

/**
 * Makes a claimed peer reachable at a URL. Access control is the peer's own (tickets, then
 * its cookie): the router only carries requests. Implementations: EmbeddedRouter (the
 * dispatcher proxies `/p/<peerId>/`); a Traefik one later.
 */
export interface Router {
  route(peerId: string, target: RouteTarget): Promise<void>;
  unroute(peerId: string): Promise<void>;
  /** The path (on the dispatcher's site) where the peer answers. */
  pathFor(peerId: string): string;
}
