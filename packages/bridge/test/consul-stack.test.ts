import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stackConfig } from '../../../e2e/helpers/stack-file.js';
import { peerConsulSettings } from '../../dispatcher/src/catalog/consul/peer-registration.js';
import { parseDispatcherCommand } from '../../dispatcher/src/config/config.js';
import { parseBridgeCommand } from '../src/cli/config.js';

const STACK = fileURLToPath(new URL('../../../deploy/swarm/stack.yml', import.meta.url));
const HOME_BRIDGE = 'mfrggzdfmztwq2lknnwg23tpobyxe43u';

async function environments(env: Record<string, string>) {
  const result = await stackConfig(STACK, { BRIDGE_TRUST: HOME_BRIDGE, ...env });
  if (!result.ok) throw new Error(`docker stack config -c ${STACK}: ${result.error}`);
  const of = (service: string) =>
    Object.fromEntries(
      Object.entries(result.config.services[service]?.environment ?? {}).map(([key, value]) => [key, value ?? '']),
    );
  return { bridge: of('bridge'), dispatcher: of('dispatcher'), config: result.config };
}

describe('the Swarm stack’s bridge in Consul', () => {
  it.each(['default', 'blue-2'])(
    'joins the peers of pool %s as the dispatcher registers and gates them, at an address they reach',
    async (pool) => {
      const { bridge, dispatcher, config } = await environments({ POOL_NAME: pool });
      const command = parseBridgeCommand([], bridge, '/home/operator');
      if (command.kind !== 'run') throw new Error('the stack’s bridge does not run');
      const dispatcherCommand = parseDispatcherCommand([], dispatcher, '/home/operator');
      if (dispatcherCommand.kind !== 'run') throw new Error('the stack’s dispatcher does not run');
      // What the dispatcher hands its peers: the same agent, service and gate.
      const peers = peerConsulSettings(dispatcherCommand.config.pool, dispatcher.P2PM_PEERS_CONSUL as string);
      expect(command.config.lan).toBeNull();
      expect(command.config.consul).toEqual({
        agent: peers.agent,
        serviceName: peers.serviceName,
        visibleKeys: peers.visibleKeys,
        advertise: 'bridge',
      });
      // Reached by its name: DNS round robin to its task, as the peers are.
      expect(config.services.bridge?.deploy?.endpoint_mode).toBe('dnsrr');
    },
  );
});
