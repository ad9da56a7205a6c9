/** The owner's web server of a peer: where it listens, and whose tickets it takes. */
export interface WebOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** The dispatcher's Ed25519 public key (PEM): tickets it signs let its users in. */
  dispatcherKeyPem?: string;
  /**
   * Where the owner goes after logging out: the dispatcher's page. Behind a path-routing
   * dispatcher that is `/` on the same site; on a host of the peer's own it must be given.
   */
  dispatcherUrl?: string;
}
