/** Where a peer's web server listens, for the router to send its owner there. */
export interface RouteTarget {
  host: string;
  port: number;
}

/**
 * Makes a claimed peer reachable at a URL. Access control is the peer's own (tickets, then
 * its cookie): the router only carries requests. Implementations: EmbeddedRouter (the
 * dispatcher proxies `/p/<peerId>/`) and TraefikRouter (a host per peer).
 */
export interface Router {
  route(peerId: string, target: RouteTarget): Promise<void>;
  unroute(peerId: string): Promise<void>;
  /**
   * Where the peer's pages begin, ending in `/`: a path on the dispatcher's site (embedded),
   * or an absolute URL on the peer's own origin (one host per peer, behind Traefik).
   */
  entryFor(peerId: string): string;
  /**
   * Origins other than the dispatcher's where its form posts may end (their redirects lead to
   * the peers' own hosts), for its pages' CSP form-action; none when peers are on its site.
   */
  readonly formTargets?: readonly string[];
}
