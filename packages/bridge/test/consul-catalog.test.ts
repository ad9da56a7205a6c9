import { afterEach, describe, expect, it } from 'vitest';
import { ConsulStandIn } from '../../discovery/test/helpers/consul-standin.js';
import { ConsulCatalog } from '../../dispatcher/src/index.js';
import { catalogPeer } from '../../dispatcher/test/helpers/catalog-peer.js';
import { ConsulPeerServices } from '../../dispatcher/test/helpers/consul-peer-services.js';

const SERVICE = 'p2pm-peer-pool';
const BRIDGE = 'b'.repeat(32);

describe('a dispatcher’s Consul catalog beside bridges’ relay entries', () => {
  const closing: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close();
  });

  /** A relay entry as a bridge registers one, its check as given (a dead bridge's fails). */
  async function relayEntry(consul: ConsulStandIn, peerId: string, status: 'passing' | 'critical'): Promise<void> {
    const response = await fetch(`${consul.url}/v1/agent/service/register`, {
      method: 'PUT',
      body: JSON.stringify({
        ID: `p2pm-relay-${BRIDGE}-${peerId}`,
        Name: SERVICE,
        Address: '127.0.0.1',
        Port: 7420,
        Meta: {
          peer_id: peerId,
          greeting_port: '7400',
          secure_port: '7401',
          relay_bridge_id: BRIDGE,
          relay_greeting_port: '7420',
          relay_secure_port: '7421',
          relay_hops: '1',
        },
        Check: { CheckID: `p2pm-relay:${BRIDGE}:${peerId}`, TTL: '300s', Status: status },
      }),
    });
    expect(response.status).toBe(200);
  }

  it('neither hands out a relayed peer nor takes a failing relay entry for the health of a pool peer', async () => {
    const consul = await ConsulStandIn.start();
    closing.push(() => consul.stop());
    const catalog = new ConsulCatalog({ agent: consul.url, pool: 'pool', peerService: SERVICE });
    closing.push(() => catalog.close());
    // Sorted before the relay entries' service ids (p2pm-relay-...), as most real ids are: Consul
    // lists its own registration first and a relay entry for it after.
    const own = { ...catalogPeer(1), id: 'a'.repeat(32) };
    await catalog.register(own);
    const services = new ConsulPeerServices(consul.url, SERVICE);
    await services.add(own.id);
    // A bridge that died still lists the pool's own peer (its entry fails); another peer is only relayed.
    await relayEntry(consul, own.id, 'critical');
    await relayEntry(consul, 'r'.repeat(32), 'passing');

    expect((await catalog.get(own.id))?.healthy).toBe(true);
    expect((await catalog.list()).map((peer) => peer.id)).toEqual([own.id]);
    expect((await catalog.claim('ada'))?.id).toBe(own.id);
    expect(await catalog.claim('bob')).toBeNull();
    // The pool peer's own registration still counts: failing, it is unhealthy.
    await services.fail(own.id);
    await expect.poll(async () => (await catalog.get(own.id))?.healthy).toBe(false);
  });
});
