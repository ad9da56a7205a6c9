import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ConsulDirectory,
  ConsulReader,
  ConsulRelayEntries,
  type DirectoryPeer,
  RELAY_TAG,
  type RelayAccess,
  type RelayedPeerEntry,
  relayServiceId,
} from '../src/index.js';
import { CONSUL_TIMING, testPeerId } from './helpers/consul-network.js';
import { POOL, poolDirectory, relayEntriesOf } from './helpers/consul-pool.js';
import { ConsulStandIn } from './helpers/consul-standin.js';

const SERVICE = POOL.service;

function remotePeer(name: string, hops = 1): RelayedPeerEntry {
  return { peerId: testPeerId(), name, greetingPort: 7400, securePort: 7401, protocolVersion: 1, hops };
}

async function until<T>(what: string, get: () => T, check: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('relay entries in Consul: peers of other networks, through a bridge', () => {
  let consul: ConsulStandIn;
  const stops: (() => Promise<void>)[] = [];
  beforeEach(async () => {
    consul = await ConsulStandIn.start();
  });
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    await consul.stop();
  });

  function bridgeEntries(access: RelayAccess): ConsulRelayEntries {
    const entries = new ConsulRelayEntries({
      agent: consul.address,
      serviceName: SERVICE,
      access,
      ttlMs: CONSUL_TIMING.ttlMs,
      reapAfterMs: 1_500,
      retry: CONSUL_TIMING.retry,
    });
    stops.push(() => entries.stop());
    return entries;
  }

  async function claimedPeer(name: string, greetingPort: number): Promise<ConsulDirectory> {
    const directory = await poolDirectory(consul, name, greetingPort);
    stops.push(() => directory.stop());
    return directory;
  }

  const relayEntries = () => relayEntriesOf(consul);

  it('a claimed peer lists a remote peer with the bridge’s route and no address; the bridge’s reader does not take it for a peer of its own', async () => {
    const access = { bridgeId: testPeerId(), host: '10.0.0.9', greetingPort: 7420, securePort: 7421 };
    const entries = bridgeEntries(access);
    await entries.start();
    const rob = remotePeer('rob', 2);
    entries.put([rob]);
    const [registered] = await until('the relay entry', relayEntries, (list) => list.length === 1);
    expect(registered).toMatchObject({
      id: relayServiceId(access.bridgeId, rob.peerId),
      name: SERVICE,
      address: '10.0.0.9',
      port: 7420,
      meta: { peer_id: rob.peerId, relay_bridge_id: access.bridgeId, relay_hops: '2', relay_secure_port: '7421' },
      checks: [{ status: 'passing' }],
    });
    expect(registered?.tags).toContain(RELAY_TAG);

    // A user's peer (its key under the prefix) sees rob through the bridge; rob needs no key of its own.
    const ada = await claimedPeer('ada', 7500);
    const robAsSeen = await until(
      'rob listed',
      () => ada.peer(rob.peerId),
      (peer) => peer !== undefined,
    );
    expect(robAsSeen).toMatchObject({
      id: rob.peerId,
      name: 'rob',
      addresses: [],
      greetingPort: 7400,
      securePort: 7401,
      relays: [{ ...access, hops: 2 }],
    });

    // A spare peer (no key) sees nobody, rob included; and nobody sees it.
    const spare = await poolDirectory(consul, 'spare', 7600, false);
    stops.push(() => spare.stop());
    await until(
      'the spare registered',
      () => consul.services().length,
      (n) => n === 3,
    );

    // The bridge's own reader, gated alike: ada as a peer with an address, rob as a route only.
    const reader = new ConsulReader({
      agent: consul.address,
      serviceName: SERVICE,
      visibleKeys: POOL.visibleKeys,
      ...CONSUL_TIMING,
    });
    stops.push(() => reader.stop());
    await reader.start();
    const listed = await until(
      'the reader lists ada and rob',
      () => reader.peers(),
      (peers) => peers.length === 2,
    );
    const byName = (name: string) => listed.find((p) => p.name === name) as DirectoryPeer;
    expect(byName('ada')).toMatchObject({ addresses: ['127.0.0.1'] });
    expect(byName('ada').relays).toBeUndefined();
    expect(byName('rob')).toMatchObject({ addresses: [], relays: [{ bridgeId: access.bridgeId }] });
    expect(spare.peers()).toEqual([]);

    // Withdrawn: the entry goes, and so does rob.
    entries.remove([rob.peerId]);
    await until('the entry deregistered', relayEntries, (list) => list.length === 0);
    await until(
      'rob gone',
      () => ada.peer(rob.peerId),
      (peer) => peer === undefined,
    );
  });

  it('routes of two bridges to one peer are listed together, fewest hops first, beside its own address', async () => {
    const near = { bridgeId: testPeerId(), host: '10.0.0.1', greetingPort: 7420, securePort: 7421 };
    const far = { bridgeId: testPeerId(), host: '10.0.0.2', greetingPort: 7430, securePort: 7431 };
    const [nearEntries, farEntries] = [bridgeEntries(near), bridgeEntries(far)];
    await Promise.all([nearEntries.start(), farEntries.start()]);
    const ada = await claimedPeer('ada', 7500);
    const bob = await claimedPeer('bob', 7510);
    const rob = remotePeer('rob');
    farEntries.put([{ ...rob, hops: 3 }]);
    nearEntries.put([rob]);
    const robAsSeen = await until(
      'two routes to rob',
      () => ada.peer(rob.peerId),
      (peer) => peer?.relays?.length === 2,
    );
    expect(robAsSeen?.relays?.map((r) => [r.bridgeId, r.hops])).toEqual([
      [near.bridgeId, 1],
      [far.bridgeId, 3],
    ]);

    // A bridge that also lists a peer that registered itself adds a route; the address stays.
    const bobId = (
      await until(
        'bob listed',
        () => ada.peers(),
        (p) => p.some((x) => x.name === 'bob'),
      )
    ).find((p) => p.name === 'bob')?.id as string;
    nearEntries.put([{ ...remotePeer('bob'), peerId: bobId }]);
    const bobAsSeen = await until(
      'a route to bob',
      () => ada.peer(bobId),
      (peer) => peer?.relays?.length === 1,
    );
    expect(bobAsSeen).toMatchObject({ addresses: ['127.0.0.1'], greetingPort: 7510, name: 'bob' });
    expect(bob.peer(rob.peerId)?.relays?.length).toBe(2);
  });

  it('registers again what an agent that restarted forgot, and deregisters everything on stop', async () => {
    const access = { bridgeId: testPeerId(), host: '10.0.0.9', greetingPort: 7420, securePort: 7421 };
    const entries = bridgeEntries(access);
    await entries.start();
    entries.put([remotePeer('rob'), remotePeer('ray')]);
    await until('two entries', relayEntries, (list) => list.length === 2);
    consul.forgetAll();
    await until('both registered again', relayEntries, (list) => list.length === 2);
    // Kept passing past their TTL: watched all along, never critical.
    const statuses = () => relayEntries().flatMap((s) => s.checks.map((c) => c.status));
    const watchUntil = Date.now() + CONSUL_TIMING.ttlMs * 1.5;
    while (Date.now() < watchUntil) {
      expect(statuses()).toEqual(['passing', 'passing']);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await entries.stop();
    expect(relayEntries()).toEqual([]);
  });

  it('waits out a Consul that is down, and registers once it answers', async () => {
    const port = consul.port;
    await consul.stop();
    const access = { bridgeId: testPeerId(), host: '10.0.0.9', greetingPort: 7420, securePort: 7421 };
    const entries = bridgeEntries(access);
    await entries.start();
    // Refused meanwhile (retried every 50-300 ms): nothing thrown, nothing registered.
    entries.put([remotePeer('rob')]);
    expect(entries.registered()).toEqual([]);
    consul = await ConsulStandIn.start({ port });
    await until('rob registered', relayEntries, (list) => list.length === 1);
    expect(entries.registered()).toHaveLength(1);
  });

  it('a bridge that restarts removes the entries its previous run left, and keeps those it still advertises', async () => {
    const access = { bridgeId: testPeerId(), host: '10.0.0.9', greetingPort: 7420, securePort: 7421 };
    const [rob, ray] = [remotePeer('rob'), remotePeer('ray')];
    // Entries as a killed run leaves them: registered, never deregistered.
    for (const peer of [rob, ray]) {
      const body = {
        ID: relayServiceId(access.bridgeId, peer.peerId),
        Name: SERVICE,
        Address: access.host,
        Port: access.greetingPort,
        Meta: { peer_id: peer.peerId, relay_bridge_id: access.bridgeId },
      };
      const put = await fetch(`${consul.url}/v1/agent/service/register`, { method: 'PUT', body: JSON.stringify(body) });
      expect(put.status).toBe(200);
    }
    const entries = bridgeEntries(access);
    entries.put([rob]);
    await entries.start();
    const left = await until('ray removed', relayEntries, (list) => list.length === 1);
    expect(left[0]?.meta?.peer_id).toBe(rob.peerId);
    expect(left[0]?.meta?.relay_hops).toBe('1');
  });
});
