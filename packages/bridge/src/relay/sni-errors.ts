/** Why the first bytes of a relay connection gave no server name to route by. */
export type HelloFailure = 'not-tls' | 'malformed' | 'too-large' | 'no-sni' | 'timeout' | 'closed';

/** The connection's first bytes are not a TLS ClientHello naming a server; `reason` says why. */
export class ClientHelloError extends Error {
  override name = 'ClientHelloError';
  readonly reason: HelloFailure;

  constructor(reason: HelloFailure, message: string) {
    super(message);
    this.reason = reason;
  }
}
