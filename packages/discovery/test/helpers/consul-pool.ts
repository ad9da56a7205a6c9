import { ConsulDirectory } from '../../src/index.js';
import { CONSUL_TIMING, testPeerInfo } from './consul-network.js';
import type { ConsulStandIn, StandInService } from './consul-standin.js';

/** A dispatcher's pool in Consul: its peers' service, and the KV prefix of its claimed peers. */
export const POOL = { service: 'p2pm-peer-pool', visibleKeys: 'p2p-messenger/pools/pool/claimed/' } as const;

/** Claims a peer as the dispatcher does: a key under the prefix lets it see, and be seen by, the others. */
export async function claimInPool(consul: ConsulStandIn, peerId: string): Promise<void> {
  const response = await fetch(`${consul.url}/v1/kv/${POOL.visibleKeys}${peerId}`, { method: 'PUT', body: '' });
  if (!response.ok) throw new Error(`claiming ${peerId}: ${response.status}`);
}

/** A started directory as one of the pool's peers has it (claimed unless told otherwise); the caller stops it. */
export async function poolDirectory(
  consul: ConsulStandIn,
  name: string,
  greetingPort: number,
  claimed = true,
): Promise<ConsulDirectory> {
  const self = testPeerInfo(name, { greetingPort, securePort: greetingPort + 1 });
  if (claimed) await claimInPool(consul, self.id);
  const directory = new ConsulDirectory({
    self,
    agent: consul.address,
    advertiseAddress: '127.0.0.1',
    serviceName: POOL.service,
    visibleKeys: POOL.visibleKeys,
    ...CONSUL_TIMING,
  });
  await directory.start();
  return directory;
}

/** The bridges' relay entries among what the stand-in holds. */
export function relayEntriesOf(consul: ConsulStandIn): StandInService[] {
  return consul.services().filter((service) => service.meta?.relay_bridge_id !== undefined);
}
