import * as grpc from '@grpc/grpc-js';
import type { LocalIdentity } from '@p2p-messenger/peer';
import type { FederationServer } from '@p2p-messenger/proto';
import { FederationListenError } from './errors.js';
import { type LinkKeepalive, linkChannelOptions, linkServerCredentials } from './link-credentials.js';
import { leanFederationService } from './relay-chunk-codec.js';

/** The federation port: a gRPC server over TLS 1.3 with the bridge's certificate. */
export class FederationListener {
  readonly #server: grpc.Server;
  readonly #identity: LocalIdentity;

  constructor(identity: LocalIdentity, service: FederationServer, keepalive?: LinkKeepalive) {
    this.#identity = identity;
    this.#server = new grpc.Server(linkChannelOptions(keepalive));
    this.#server.addService(leanFederationService, service);
  }

  /** Binds the address; answers the port bound (port 0 picks a free one). */
  listen(address: { host: string; port: number }): Promise<number> {
    const host = address.host.includes(':') ? `[${address.host}]` : address.host;
    return new Promise<number>((resolve, reject) => {
      this.#server.bindAsync(`${host}:${address.port}`, linkServerCredentials(this.#identity), (err, port) =>
        err
          ? reject(new FederationListenError(`cannot listen on ${host}:${address.port} for bridges: ${err.message}`))
          : resolve(port),
      );
    });
  }

  /** Lets calls finish for a moment, then closes whatever is left. */
  async close(): Promise<void> {
    const server = this.#server;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 2_000);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
