import { join } from 'node:path';
import { type ConsulDirectory, type DirectoryPeer, relayServiceId } from '@p2p-messenger/discovery';
import { loadOrCreateIdentity } from '@p2p-messenger/peer';
import { freePort, PeerProcess } from '@p2p-messenger/peer/harness';
import { PROTOCOL_VERSION } from '@p2p-messenger/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { CONSUL_TIMING } from '../../discovery/test/helpers/consul-network.js';
import { claimInPool, POOL, poolDirectory, relayEntriesOf } from '../../discovery/test/helpers/consul-pool.js';
import { ConsulStandIn } from '../../discovery/test/helpers/consul-standin.js';
import { CliProcess } from '../../peer/test/helpers/cli-process.js';
import { Bridge, ConsulNetwork, InProcessNetwork, type LocatingNetwork, loadBridgeIdentity } from '../src/index.js';
import { BRIDGE_MAIN, cleanEnv } from './cli-process.js';
import { makePeer, quietLog, Resources } from './helpers/federation-bridges.js';

const SERVICE = POOL.service;
const PREFIX = POOL.visibleKeys;
const READY = /bridge (\w{32}) ready: federation on [^:]+:(\d+), relay on [^:]+:(\d+)\/(\d+)/;

/** A network held in memory whose peers are reached where their records say. */
function inMemoryNetwork(): InProcessNetwork & LocatingNetwork {
  return Object.assign(new InProcessNetwork(), { locate: () => null });
}

/** Polls until `check` holds, failing with the last value seen. */
async function until<T>(
  what: string,
  get: () => T | Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await get();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a bridge whose local side is Consul', () => {
  const resources = new Resources();
  afterEach(() => resources.release());

  async function standIn(): Promise<ConsulStandIn> {
    const consul = await ConsulStandIn.start();
    resources.defer(() => consul.stop());
    return consul;
  }

  /**
   * A peer process registered in Consul at 127.0.0.1, seen only by claimed peers (a key under
   * PREFIX). The address it signs is 127.0.0.2, where nothing listens: like a private address of
   * another network, it leads nowhere, so peers of the other network can only go through bridges.
   */
  async function consulPeer(consul: ConsulStandIn, name: string, claimed = true): Promise<PeerProcess> {
    const dir = await resources.tempDir(`consul-peer-${name}`);
    const peer = await PeerProcess.start({
      name,
      dataDir: join(dir, name),
      advertisedAddresses: ['127.0.0.2'],
      discovery: {
        consul: {
          agent: consul.address,
          advertiseAddress: '127.0.0.1',
          serviceName: SERVICE,
          visibleKeys: PREFIX,
          ttlMs: 1_000,
        },
      },
      reconnectMinDelayMs: 50,
      reconnectMaxDelayMs: 500,
    });
    resources.defer(() => peer.stop());
    if (claimed) await claimInPool(consul, peer.id);
    return peer;
  }

  async function consulBridge(
    consul: ConsulStandIn,
    name: string,
    federation: { listen?: boolean; trust?: string[]; join?: Bridge },
  ): Promise<Bridge> {
    const dataDir = await resources.tempDir(`bridge-${name}`);
    const bridge = await Bridge.start({
      dataDir,
      name,
      ...(federation.listen ? { listen: { host: '127.0.0.1', port: 0 } } : {}),
      trust: federation.trust ?? [],
      join: federation.join
        ? [{ bridgeId: federation.join.id, host: '127.0.0.1', port: federation.join.federation.port }]
        : [],
      relay: { host: '127.0.0.1', greetingPort: 0, securePort: 0 },
      network: (access) =>
        new ConsulNetwork({
          agent: consul.address,
          serviceName: SERVICE,
          visibleKeys: PREFIX,
          access: { ...access, host: '127.0.0.1' },
          ttlMs: CONSUL_TIMING.ttlMs,
          reapAfterMs: 60_000,
          watchWaitMs: CONSUL_TIMING.watchWaitMs,
          retry: CONSUL_TIMING.retry,
          log: quietLog,
        }),
      log: quietLog,
    });
    resources.defer(() => bridge.stop());
    return bridge;
  }

  /** A directory as a claimed peer of the pool has it. */
  async function claimedReader(consul: ConsulStandIn): Promise<ConsulDirectory> {
    const directory = await poolDirectory(consul, 'reader', 7700);
    resources.defer(() => directory.stop());
    return directory;
  }

  it('offers the claimed peers registered there to the other network, and registers the other network’s peers as routes through it', async () => {
    const consul = await standIn();
    const ada = await consulPeer(consul, 'ada');
    const spare = await consulPeer(consul, 'spare', false);
    const homeDir = await resources.tempDir('home');
    const homeId = (await loadBridgeIdentity(homeDir, 'home')).id;
    const cloud = await consulBridge(consul, 'cloud', { listen: true, trust: [homeId] });
    const home = inMemoryNetwork();
    const homeBridge = await Bridge.start({
      dataDir: homeDir,
      name: 'home',
      join: [{ bridgeId: cloud.id, host: '127.0.0.1', port: cloud.federation.port }],
      relay: { host: '127.0.0.1', greetingPort: 0, securePort: 0 },
      network: () => home,
      log: quietLog,
    });
    resources.defer(() => homeBridge.stop());

    // The claimed peer reaches the other network, with the record it signed; the spare does not.
    const [adaAtHome] = await until(
      'ada offered to the home network',
      () => homeBridge.federation.remotePeers(),
      (routes) => routes.length > 0,
    );
    expect(adaAtHome).toMatchObject({ peerId: ada.id, name: 'ada', hops: 1, nextHop: cloud.id });
    expect(adaAtHome?.record).toMatchObject({ id: ada.id, name: 'ada', greetingPort: ada.greetingPort });
    expect(cloud.federation.remotePeers()).toEqual([]);

    // A home peer appears in Consul as a route through the cloud bridge, passing its check.
    const bob = await makePeer(resources, 'bob');
    home.add(bob);
    const [entry] = await until(
      'bob’s entry in Consul',
      () => relayEntriesOf(consul),
      (list) => list.length === 1,
    );
    expect(entry).toMatchObject({
      id: relayServiceId(cloud.id, bob.id),
      name: SERVICE,
      address: '127.0.0.1',
      port: cloud.relayPorts.greetingPort,
      meta: { peer_id: bob.id, peer_name: 'bob', relay_bridge_id: cloud.id, relay_hops: '1' },
      checks: [{ status: 'passing' }],
    });

    // A claimed peer reading Consul sees bob through the bridge, no address of his; ada by her own.
    const reader = await claimedReader(consul);
    const bobAsSeen = await until(
      'bob listed',
      () => reader.peer(bob.id),
      (peer) => peer !== undefined,
    );
    expect(bobAsSeen).toMatchObject({
      addresses: [],
      greetingPort: bob.greetingPort,
      relays: [{ bridgeId: cloud.id, host: '127.0.0.1', ...cloud.relayPorts, hops: 1 }],
    });
    const adaAsSeen = (await until('ada listed', () => reader.peer(ada.id), Boolean)) as DirectoryPeer;
    expect(adaAsSeen.addresses).toEqual(['127.0.0.1']);
    expect(adaAsSeen.relays).toBeUndefined();
    expect(reader.peer(spare.id)).toBeUndefined();

    // No loop: the cloud bridge does not take bob's entry for a peer of its network.
    expect(homeBridge.federation.remotePeers().map((r) => r.peerId)).toEqual([ada.id]);

    // Withdrawn at home: the entry goes, and readers lose bob.
    home.remove(bob.id);
    await until(
      'bob’s entry removed',
      () => relayEntriesOf(consul),
      (list) => list.length === 0,
    );
    await until(
      'bob unlisted',
      () => reader.peer(bob.id),
      (peer) => peer === undefined,
    );

    // A peer leaving Consul leaves the other network.
    await ada.stop();
    await until(
      'ada withdrawn at home',
      () => homeBridge.federation.remotePeers(),
      (routes) => routes.length === 0,
    );

    // A bridge that stops deregisters its entries.
    home.add(bob);
    await until(
      'bob’s entry back',
      () => relayEntriesOf(consul),
      (list) => list.length === 1,
    );
    await cloud.stop();
    expect(relayEntriesOf(consul)).toEqual([]);
  });

  it('asks a peer listed before it answers again until it does, and follows it when it moves', async () => {
    const consul = await standIn();
    const cloud = await consulBridge(consul, 'cloud', {});
    // Registered (as a dispatcher's peer whose process is still starting) where nothing answers yet.
    const dir = await resources.tempDir('consul-peer-late');
    const { id } = await loadOrCreateIdentity(join(dir, 'late'));
    await claimInPool(consul, id);
    const ports = { greetingPort: await freePort(), securePort: await freePort() };
    const placeholder = await fetch(`${consul.url}/v1/agent/service/register`, {
      method: 'PUT',
      body: JSON.stringify({
        ID: id,
        Name: SERVICE,
        Address: '127.0.0.1',
        Port: ports.greetingPort,
        // Listed as the peer will list itself, so that its own registration changes nothing the bridge sees.
        Meta: {
          peer_id: id,
          peer_name: 'late',
          greeting_port: String(ports.greetingPort),
          secure_port: String(ports.securePort),
          protocol_version: String(PROTOCOL_VERSION),
        },
        Check: { CheckID: `p2pm-peer:${id}`, TTL: '300s', Status: 'passing' },
      }),
    });
    expect(placeholder.status).toBe(200);
    // Listed at once, refused at once; the peer process takes a second or two to start after that.
    const late = await PeerProcess.start({
      name: 'late',
      dataDir: join(dir, 'late'),
      ...ports,
      advertisedAddresses: ['127.0.0.2'],
      discovery: {
        consul: { agent: consul.address, advertiseAddress: '127.0.0.1', serviceName: SERVICE, visibleKeys: PREFIX },
      },
    });
    resources.defer(() => late.stop());
    const record = await until('the late peer learned', () => cloud.federation.localPeer(id), Boolean);
    expect(record).toMatchObject({ id, name: 'late', greetingPort: ports.greetingPort });

    // Restarted on other ports: the bridge asks it again where it now is.
    await late.stop();
    const moved = await PeerProcess.start({
      name: 'late',
      dataDir: join(dir, 'late'),
      advertisedAddresses: ['127.0.0.2'],
      discovery: {
        consul: { agent: consul.address, advertiseAddress: '127.0.0.1', serviceName: SERVICE, visibleKeys: PREFIX },
      },
    });
    resources.defer(() => moved.stop());
    await until(
      'the moved peer learned again',
      () => cloud.federation.localPeer(id),
      (peer) => peer?.greetingPort === moved.greetingPort,
    );
  });

  it('the bridge command with --consul: its entries fail their checks when it is killed, and its next run removes them', async () => {
    const consul = await standIn();
    const cloudDir = await resources.tempDir('cloud-cli');
    const cloudId = (await loadBridgeIdentity(cloudDir, 'cloud')).id;
    const homeDir = await resources.tempDir('home');
    const homeId = (await loadBridgeIdentity(homeDir, 'home')).id;
    const args = [
      '--data-dir',
      cloudDir,
      '--consul',
      consul.address,
      '--consul-service',
      SERVICE,
      '--advertise',
      '127.0.0.1',
      '--relay-host',
      '127.0.0.1',
      '--relay-greeting-port',
      '0',
      '--relay-port',
      '0',
      '--listen',
      '127.0.0.1:0',
      '--trust',
      homeId,
    ];
    const first = new CliProcess('cloud bridge', args, cleanEnv(), { script: BRIDGE_MAIN });
    resources.defer(() => first.kill());
    const ready = await first.waitFor(READY);
    expect(ready[1]).toBe(cloudId);
    const home = inMemoryNetwork();
    const bob = await makePeer(resources, 'bob');
    home.add(bob);
    const homeBridge = await Bridge.start({
      dataDir: homeDir,
      join: [{ bridgeId: cloudId, host: '127.0.0.1', port: Number(ready[2]) }],
      relay: { host: '127.0.0.1', greetingPort: 0, securePort: 0 },
      network: () => home,
      log: quietLog,
    });
    resources.defer(() => homeBridge.stop());
    const [entry] = await until(
      'bob’s entry',
      () => relayEntriesOf(consul),
      (list) => list.length === 1,
    );
    expect(entry).toMatchObject({
      address: '127.0.0.1',
      port: Number(ready[3]),
      meta: { peer_id: bob.id, relay_bridge_id: cloudId, relay_secure_port: ready[4] },
      checks: [{ status: 'passing' }],
    });

    // Killed: nobody passes the check any more (the default TTL is 10 s), so readers drop bob.
    await first.kill();
    await until(
      'bob’s entry critical',
      () => relayEntriesOf(consul),
      (list) => list[0]?.checks[0]?.status === 'critical',
      25_000,
    );

    // Its next run does not advertise bob (no link yet) and removes what the killed one left.
    const second = new CliProcess('cloud bridge again', args, cleanEnv(), { script: BRIDGE_MAIN });
    resources.defer(() => second.kill());
    await second.waitFor(READY);
    await until(
      'the leftover removed',
      () => relayEntriesOf(consul),
      (list) => list.length === 0,
    );
  });

  it('a peer in one Consul messages a peer in another through two bridges', async () => {
    const [east, west] = [await standIn(), await standIn()];
    const ada = await consulPeer(east, 'ada');
    const bob = await consulPeer(west, 'bob');
    const westDir = await resources.tempDir('west-bridge');
    const westId = (await loadBridgeIdentity(westDir, 'west')).id;
    const eastBridge = await consulBridge(east, 'east', { listen: true, trust: [westId] });
    const westBridge = await Bridge.start({
      dataDir: westDir,
      name: 'west',
      join: [{ bridgeId: eastBridge.id, host: '127.0.0.1', port: eastBridge.federation.port }],
      relay: { host: '127.0.0.1', greetingPort: 0, securePort: 0 },
      network: (access) =>
        new ConsulNetwork({
          agent: west.address,
          serviceName: SERVICE,
          visibleKeys: PREFIX,
          access: { ...access, host: '127.0.0.1' },
          ...CONSUL_TIMING,
          log: quietLog,
        }),
      log: quietLog,
    });
    resources.defer(() => westBridge.stop());

    const peersOf = (peer: PeerProcess) =>
      peer.request<{ id: string; status: string; path: unknown }[]>({ op: 'peers' });
    await ada.until(async () => (await peersOf(ada)).some((p) => p.id === bob.id), 'bob listed at ada', 30_000);
    await ada.request({ op: 'send', peerId: bob.id, text: 'hello from the east' });
    await bob.until(() => bob.received === 1, 'bob to receive', 30_000);
    const history = await bob.request<{ text: string }[]>({ op: 'history', peerId: ada.id, limit: 5 });
    expect(history.map((m) => m.text)).toEqual(['hello from the east']);
    const bobAtAda = (await peersOf(ada)).find((p) => p.id === bob.id);
    expect(bobAtAda).toMatchObject({ status: 'online', path: { kind: 'bridge', bridgeId: eastBridge.id } });

    // And back.
    await bob.request({ op: 'send', peerId: ada.id, text: 'hello from the west' });
    await ada.until(() => ada.received === 1, 'ada to receive', 30_000);
    const adaAtBob = (await peersOf(bob)).find((p) => p.id === ada.id);
    expect(adaAtBob).toMatchObject({ status: 'online', path: { kind: 'bridge', bridgeId: westBridge.id } });
  });
});
