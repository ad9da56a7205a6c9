/**
 * Run in a lab host, for tests of a dialing bridge: a federation port that answers Identify
 * with ANOTHER bridge's genuine signed record (public, so anyone can replay it) while holding
 * only its own key pair. A dialer that checks the record alone would take it for that bridge;
 * its pinned channel must not. Prints "listening" once bound and "link call" for every Link
 * or Relay call that gets through. argv[2]: JSON { dataDir, port, recordBase64 }.
 */
import * as grpc from '@grpc/grpc-js';
import { loadOrCreateIdentity } from '@p2p-messenger/peer';
import { type FederationServer, FederationService, PeerIdentity } from '@p2p-messenger/proto';
import { linkServerCredentials } from '../federation/link-credentials.js';

const { dataDir, port, recordBase64 } = JSON.parse(process.argv[2] ?? '{}') as {
  dataDir: string;
  port: number;
  recordBase64: string;
};
const replayed = PeerIdentity.decode(Buffer.from(recordBase64, 'base64'));
const identity = await loadOrCreateIdentity(dataDir);

const refuse = (call: grpc.ServerDuplexStream<unknown, unknown>) => {
  process.stdout.write('link call\n');
  call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'an impostor' });
};
const service: FederationServer = {
  identify: (_call, callback) => callback(null, { identity: replayed }),
  link: refuse,
  relay: refuse,
};
const server = new grpc.Server();
server.addService(FederationService, service);
server.bindAsync(`0.0.0.0:${port}`, linkServerCredentials(identity), (err) => {
  if (err) {
    process.stderr.write(`impostor: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write('listening\n');
});
process.on('SIGTERM', () => server.forceShutdown());
