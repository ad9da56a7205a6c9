import type * as grpc from '@grpc/grpc-js';
import { PortInUseError } from '../errors.js';
import { hostPort } from '../util/address.js';

/** Binds a grpc server, turning "address in use" into an error that says what to do. */
export function bindServer(
  server: grpc.Server,
  host: string,
  port: number,
  credentials: grpc.ServerCredentials,
  what: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(hostPort(host, port), credentials, (err, boundPort) => {
      if (!err) {
        resolve(boundPort);
        return;
      }
      if (/EADDRINUSE|address already in use|No address added/i.test(err.message)) {
        reject(
          new PortInUseError(
            `the ${what} port ${port} on ${host} is in use: pick another one (or 0 for any free port)`,
          ),
        );
      } else {
        reject(err);
      }
    });
  });
}

/** Lets calls finish for a moment, then cuts what is left. */
export function shutdownServer(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
