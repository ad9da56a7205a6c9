import { once } from 'node:events';
import { createServer } from 'node:net';
import { PortInUseError } from '@p2p-messenger/peer';
import type { BridgeConfig } from './config.js';

/** One port the bridge will listen on, and the flag that sets it (for the message). */
interface PortUse {
  flag: string;
  what: string;
  host: string;
  port: number;
}

/**
 * Tries each fixed port before anything starts, so that a port in use is reported by name
 * with a way out, rather than as a bind error deep in a library.
 */
export async function checkPortsFree(config: BridgeConfig): Promise<void> {
  const uses: PortUse[] = [
    {
      flag: '--relay-greeting-port',
      what: 'relay greeting port',
      host: config.relay.host,
      port: config.relay.greetingPort,
    },
    { flag: '--relay-port', what: 'relay port', host: config.relay.host, port: config.relay.securePort },
  ];
  if (config.listen) uses.push({ flag: '--listen', what: 'federation port', ...config.listen });
  if (config.ops) uses.push({ flag: '--ops-port', what: 'ops port', ...config.ops });
  for (const use of uses) {
    if (use.port === 0) continue;
    const code = await tryListen(use.host, use.port);
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      const example =
        use.flag === '--listen' ? `--listen ${use.host}:${use.port + 10}` : `${use.flag} ${use.port + 10}`;
      throw new PortInUseError(
        `the ${use.what} ${use.port} on ${use.host} ${code === 'EACCES' ? 'is not allowed here' : 'is in use'} (${use.flag}): pass another, e.g. ${example}, or stop what holds it`,
      );
    }
  }
}

async function tryListen(host: string, port: number): Promise<string | null> {
  const server = createServer();
  server.listen({ host, port, exclusive: true });
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err))]);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'unknown';
  }
  server.close();
  await once(server, 'close');
  return null;
}
