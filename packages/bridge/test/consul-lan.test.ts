import { join } from 'node:path';
import { type Lan, NetLab } from '@p2p-messenger/discovery/lab';
import { PeerProcess } from '@p2p-messenger/peer/harness';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONSUL_TIMING } from '../../discovery/test/helpers/consul-network.js';
import { claimInPool, POOL } from '../../discovery/test/helpers/consul-pool.js';
import { ConsulStandIn } from '../../discovery/test/helpers/consul-standin.js';
import { CliProcess } from '../../peer/test/helpers/cli-process.js';
import { Bridge, ConsulNetwork, loadBridgeIdentity } from '../src/index.js';
import { BRIDGE_MAIN, cleanEnv } from './cli-process.js';
import { quietLog, Resources } from './helpers/federation-bridges.js';

const MULTICAST = { intervalMs: 200, expiryMs: 1_000, families: ['ipv4' as const] };

type Seen = { id: string; status: string; path: { kind: string; bridgeId?: string } | null };
const peersOf = (peer: PeerProcess) => peer.request<Seen[]>({ op: 'peers' });

describe('a home LAN joined to peers in Consul', () => {
  const resources = new Resources();
  let lab: NetLab;
  beforeEach(async () => {
    if (!(await NetLab.available())) throw new Error('these tests need root and iproute2 (ip netns)');
    lab = await NetLab.create();
  });
  afterEach(async () => {
    await resources.release();
    await lab.destroy();
  });

  it('a LAN peer and a peer registered in Consul message each other through the home bridge (multicast) and the cloud bridge (Consul)', async () => {
    const home: Lan = await lab.addLan();
    const [adaHost, bridgeHost] = [await lab.addHost(home), await lab.addHost(home)];
    // The test's own namespace (the cloud: Consul, its peer and its bridge) on the home LAN, as the internet would be.
    const cloudLeg = await lab.joinRoot(home);

    const consul = await ConsulStandIn.start();
    resources.defer(() => consul.stop());
    const bobDir = await resources.tempDir('cloud-bob');
    const bob = await PeerProcess.start({
      name: 'bob',
      dataDir: join(bobDir, 'bob'),
      advertisedAddresses: ['127.0.0.1'],
      discovery: {
        consul: { agent: consul.address, serviceName: POOL.service, visibleKeys: POOL.visibleKeys, ttlMs: 1_000 },
      },
      reconnectMinDelayMs: 50,
      reconnectMaxDelayMs: 500,
    });
    resources.defer(() => bob.stop());
    await claimInPool(consul, bob.id);

    const homeDir = await resources.tempDir('home-bridge');
    const homeId = (await loadBridgeIdentity(homeDir, 'home')).id;
    const cloud = await Bridge.start({
      dataDir: await resources.tempDir('cloud-bridge'),
      name: 'cloud',
      listen: { host: cloudLeg.ipv4, port: 0 },
      trust: [homeId],
      relay: { host: '127.0.0.1', greetingPort: 0, securePort: 0 },
      network: (access) =>
        new ConsulNetwork({
          agent: consul.address,
          serviceName: POOL.service,
          visibleKeys: POOL.visibleKeys,
          access: { ...access, host: '127.0.0.1' },
          ...CONSUL_TIMING,
          log: quietLog,
        }),
      log: quietLog,
    });
    resources.defer(() => cloud.stop());

    const homeBridge = new CliProcess(
      'home bridge',
      [
        '--data-dir',
        homeDir,
        '--name',
        'home',
        '--lan',
        '--interface',
        'eth0',
        '--multicast-family',
        'ipv4',
        '--announce-interval',
        '200',
        '--join',
        `${cloud.id}@${cloudLeg.ipv4}:${cloud.federation.port}`,
      ],
      cleanEnv(),
      { script: BRIDGE_MAIN, netns: bridgeHost.netns },
    );
    resources.defer(() => homeBridge.kill());
    await homeBridge.waitFor(/bridge \w{32} ready/);

    const adaDir = await resources.tempDir('home-ada');
    const ada = await PeerProcess.start(
      {
        name: 'ada',
        dataDir: join(adaDir, 'ada'),
        discovery: { multicast: MULTICAST },
        reconnectMinDelayMs: 50,
        reconnectMaxDelayMs: 500,
      },
      20_000,
      adaHost.netns,
    );
    resources.defer(() => ada.stop());

    // Each lists the other through its own network's bridge.
    await ada.until(async () => (await peersOf(ada)).some((p) => p.id === bob.id), 'bob listed on the LAN', 30_000);
    await bob.until(async () => (await peersOf(bob)).some((p) => p.id === ada.id), 'ada listed in Consul', 30_000);

    await ada.request({ op: 'send', peerId: bob.id, text: 'hello from home' });
    await bob.until(() => bob.received === 1, 'bob to receive', 30_000);
    await bob.request({ op: 'send', peerId: ada.id, text: 'hello from the cloud' });
    await ada.until(() => ada.received === 1, 'ada to receive', 30_000);
    const atBob = await bob.request<{ text: string }[]>({ op: 'history', peerId: ada.id, limit: 5 });
    expect(atBob.map((m) => m.text)).toEqual(['hello from home', 'hello from the cloud']);

    expect((await peersOf(ada)).find((p) => p.id === bob.id)).toMatchObject({
      status: 'online',
      path: { kind: 'bridge', bridgeId: homeId },
    });
    expect((await peersOf(bob)).find((p) => p.id === ada.id)).toMatchObject({
      status: 'online',
      path: { kind: 'bridge', bridgeId: cloud.id },
    });
  });
});
