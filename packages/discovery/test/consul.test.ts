import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsulDirectory } from '../src/index.js';
import { directoryCompliance } from './helpers/compliance.js';
import { CONSUL_TIMING, ConsulNetwork, testPeerInfo } from './helpers/consul-network.js';
import { ConsulStandIn } from './helpers/consul-standin.js';

directoryCompliance('ConsulDirectory', () => ({
  create: () => ConsulNetwork.create(),
  losesStoppedPeers: true,
  findWithinMs: 3_000,
  leaveWithinMs: 1_000,
}));

const PORTS = { greetingPort: 7400, securePort: 7401 };

describe('ConsulDirectory against a Consul agent', () => {
  let network: ConsulNetwork;
  beforeEach(async () => {
    network = await ConsulNetwork.create();
  });
  afterEach(async () => {
    await network.close();
  });

  it('registers the peer with its ports, fingerprint and state in meta and a TTL check', async () => {
    const ada = await network.join('ada', PORTS);
    const standIn = network.standIn;
    if (!standIn) return; // a real agent is checked through the other tests
    const [service] = standIn.services();
    expect(service).toMatchObject({ id: ada.id, name: network.serviceName, address: '127.0.0.1', port: 7400 });
    expect(service?.tags).toContain('p2pm');
    expect(service?.meta).toMatchObject({
      peer_id: ada.id,
      peer_name: 'ada',
      greeting_port: '7400',
      secure_port: '7401',
      fingerprint: '12345 67890',
      state: 'active',
    });
    expect(service?.checks.map((c) => c.status)).toEqual(['passing']);
  });

  it('a peer whose heartbeats stop (a crash) turns critical and leaves the others’ lists', async () => {
    const standIn = network.standIn;
    if (!standIn) return;
    const ada = await network.join('ada', PORTS);
    // Registered like a peer, then never heard of again: nothing passes its TTL check.
    const ghost = testPeerInfo('ghost', PORTS);
    const body = {
      ID: ghost.id,
      Name: network.serviceName,
      Address: '127.0.0.1',
      Port: 7400,
      Meta: { peer_id: ghost.id, peer_name: 'ghost', greeting_port: '7400', secure_port: '7401' },
      Check: { CheckID: `p2pm-peer:${ghost.id}`, TTL: '1s', Status: 'passing' },
    };
    const registered = await fetch(`${standIn.url}/v1/agent/service/register`, {
      method: 'PUT',
      body: JSON.stringify(body),
    });
    expect(registered.status).toBe(200);
    await ada.waitFor((e) => e.event === 'found' && e.peer.id === ghost.id, 3_000);
    const lost = await ada.waitFor((e) => e.event === 'lost' && e.peer.id === ghost.id, 3_000);
    expect(lost.reason).toBe('unhealthy');
  });

  it('registers again when the agent forgot it (agent restart)', async () => {
    const standIn = network.standIn;
    if (!standIn) return;
    const ada = await network.join('ada', PORTS);
    const bob = await network.join('bob', PORTS);
    await ada.waitFor((e) => e.event === 'found' && e.peer.id === bob.id, 3_000);
    standIn.forgetAll();
    expect(standIn.services()).toEqual([]);
    await expect
      .poll(
        () =>
          standIn
            .services()
            .map((s) => s.id)
            .sort(),
        { timeout: 3_000 },
      )
      .toEqual([ada.id, bob.id].sort());
    await expect.poll(() => ada.peers().then((peers) => peers.map((p) => p.id)), { timeout: 3_000 }).toEqual([bob.id]);
  });

  it('survives a Consul outage and recovers when it is back', async () => {
    const standIn = network.standIn;
    if (!standIn) return;
    const ada = await network.join('ada', PORTS);
    const bob = await network.join('bob', PORTS);
    await ada.waitFor((e) => e.event === 'found' && e.peer.id === bob.id, 3_000);
    await standIn.stop();
    // Down for several heartbeats and watch attempts.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const back = await ConsulStandIn.start({ port: standIn.port });
    Object.assign(network, { standIn: back });
    await expect
      .poll(
        () =>
          back
            .services()
            .map((s) => s.id)
            .sort(),
        { timeout: 5_000 },
      )
      .toEqual([ada.id, bob.id].sort());
    const carol = await network.join('carol', PORTS);
    await ada.waitFor((e) => e.event === 'found' && e.peer.id === carol.id, 5_000);
    expect((await ada.peers()).map((p) => p.id).sort()).toEqual([bob.id, carol.id].sort());
  });

  it('starts while Consul is down, and registers once it is up', async () => {
    const standIn = network.standIn;
    if (!standIn) return;
    const port = standIn.port;
    await standIn.stop();
    const self = testPeerInfo('early', PORTS);
    const directory = new ConsulDirectory({
      self,
      agent: `127.0.0.1:${port}`,
      advertiseAddress: '127.0.0.1',
      ...CONSUL_TIMING,
    });
    network.directories.push(directory);
    await directory.start();
    expect(directory.registered).toBe(false);
    const back = await ConsulStandIn.start({ port });
    Object.assign(network, { standIn: back });
    await expect.poll(() => back.services().map((s) => s.id), { timeout: 3_000 }).toEqual([self.id]);
  });

  it('refuses a malformed agent address with a clear error', () => {
    expect(
      () => new ConsulDirectory({ self: testPeerInfo('x', PORTS), agent: 'http://', advertiseAddress: '127.0.0.1' }),
    ).toThrow(/Consul agent address/);
    expect(
      () =>
        new ConsulDirectory({ self: testPeerInfo('x', PORTS), agent: 'consul:99999', advertiseAddress: '127.0.0.1' }),
    ).toThrow(/Consul agent address/);
  });
});
