/**
 * Run inside a lab host: passes each connection made to a Unix socket on to a TCP port of
 * this host, so that a process outside the namespace (a test, a benchmark) reaches a port
 * only the namespace can. argv: socket path, port, [host]. Ends when its stdin closes.
 */
import { connect, createServer } from 'node:net';

const [socketPath, portText, host = '127.0.0.1'] = process.argv.slice(2);
const port = Number(portText);
if (!socketPath || !Number.isInteger(port) || port < 1 || port > 65_535) {
  process.stderr.write('usage: tunnel-worker SOCKET_PATH PORT [HOST]\n');
  process.exit(2);
}

const server = createServer((inbound) => {
  const outbound = connect(port, host);
  // Either side failing or ending ends the other: the caller sees what a direct client would.
  inbound.on('error', () => outbound.destroy());
  outbound.on('error', () => inbound.destroy());
  inbound.pipe(outbound).pipe(inbound);
});
server.listen(socketPath, () => process.stdout.write('listening\n'));
process.stdin.resume();
process.stdin.on('end', () => server.close(() => process.exit(0)));
