import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { Bridge, loadBridgeIdentity } from '@p2p-messenger/bridge';
import { identify, peerIdOfCertificate } from '@p2p-messenger/peer';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BridgedPeers } from '../src/bridge/bridged-peers.js';
import { DispatcherNetwork } from '../src/bridge/dispatcher-network.js';
import { EmbeddedCatalog, LocalProcessOrchestrator, type PeerInstance } from '../src/index.js';
import { TestDispatchers, vacantPeers } from './helpers/test-dispatcher.js';
import { WebClient } from './helpers/web-client.js';

const silent = pino({ level: 'silent' });

/** A dispatcher's peers as a bridge sees them: a catalog with one user's peer, up. */
async function network(dir: string, name: string) {
  const orchestrator = new LocalProcessOrchestrator({ dataRoot: join(dir, name, 'peers') });
  const catalog = new EmbeddedCatalog(join(dir, `${name}.db`));
  const peer = await orchestrator.start({ name });
  await catalog.register({ ...peer, id: peer.peerId });
  await catalog.claim(`user-${name}`);
  const close = async () => {
    await orchestrator.close();
    await catalog.close();
  };
  return { catalog, peer, close };
}

/** The TLS session a peer would open through the relay: whose certificate answers. */
async function certificateThrough(port: number, serverName: string): Promise<string | null> {
  const socket = connect({ host: '127.0.0.1', port, servername: serverName, rejectUnauthorized: false });
  try {
    await once(socket, 'secureConnect');
    return peerIdOfCertificate(socket.getPeerCertificate());
  } finally {
    socket.destroy();
  }
}

describe('Bridges between two dispatchers’ peers', () => {
  let dir: string;
  const closing: (() => Promise<void>)[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dispatcher-bridge-'));
  });
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close();
    await rm(dir, { recursive: true, force: true });
  });

  it("list each other's users' peers, and relay greetings and TLS sessions to them", async () => {
    const [home, cloud] = [await network(dir, 'ada'), await network(dir, 'bob')];
    closing.push(home.close, cloud.close);
    const bridged = { home: null as BridgedPeers | null, cloud: null as BridgedPeers | null };
    const cloudId = (await loadBridgeIdentity(join(dir, 'cloud-bridge'), 'cloud')).id;
    const homeId = (await loadBridgeIdentity(join(dir, 'home-bridge'), 'home')).id;
    const cloudBridge = await Bridge.start({
      dataDir: join(dir, 'cloud-bridge'),
      listen: { host: '127.0.0.1', port: 0 },
      trust: [homeId],
      relay: { host: '127.0.0.1' },
      network: (access) => {
        bridged.cloud = new BridgedPeers({ ...access, host: '127.0.0.1' });
        return new DispatcherNetwork({ catalog: cloud.catalog, bridged: bridged.cloud, log: silent });
      },
      log: silent,
    });
    closing.push(() => cloudBridge.stop());
    const homeBridge = await Bridge.start({
      dataDir: join(dir, 'home-bridge'),
      join: [{ bridgeId: cloudId, host: '127.0.0.1', port: cloudBridge.federation.port }],
      relay: { host: '127.0.0.1' },
      network: (access) => {
        bridged.home = new BridgedPeers({ ...access, host: '127.0.0.1' });
        return new DispatcherNetwork({ catalog: home.catalog, bridged: bridged.home, log: silent });
      },
      log: silent,
    });
    closing.push(() => homeBridge.stop());
    const [ada, bob]: PeerInstance[] = [home.peer, cloud.peer];

    // Each side lists the other's peer, through its own bridge's relay ports.
    await expect.poll(() => bridged.home?.entries().map((e) => e.id), { timeout: 15_000 }).toEqual([bob?.peerId]);
    expect(bridged.home?.entries()[0]?.relays).toEqual([
      { bridgeId: homeId, host: '127.0.0.1', ...homeBridge.relayPorts, hops: 1 },
    ]);
    await expect.poll(() => bridged.cloud?.entries().map((e) => e.id), { timeout: 15_000 }).toEqual([ada?.peerId]);

    // At home, the cloud's peer answers through the home bridge: its own record, its own TLS.
    const { greetingPort, securePort } = homeBridge.relayPorts;
    const record = await identify(`127.0.0.1:${greetingPort}`, bob?.peerId as string);
    expect(record).toMatchObject({ id: bob?.peerId, name: 'bob' });
    expect(await certificateThrough(securePort, bob?.peerId as string)).toBe(bob?.peerId);
    // Nobody else: a peer the bridge does not advertise is refused.
    await expect(identify(`127.0.0.1:${greetingPort}`, ada?.peerId as string)).rejects.toThrow(/not|advertis/i);
    expect(homeBridge.stats.snapshot().refusals['not-advertised']).toBeGreaterThan(0);

    // A bridge that stops withdraws: the other side lists nothing of it any more.
    await cloudBridge.stop();
    await expect.poll(() => bridged.home?.entries(), { timeout: 15_000 }).toEqual([]);
  });

  it("runs in the dispatcher: a home network gets the users' peers, and a user's peer messages a home peer through it", async () => {
    const dispatchers = new TestDispatchers();
    closing.push(() => dispatchers.cleanup());
    const homeBridgeDir = join(dir, 'home-bridge');
    const homeId = (await loadBridgeIdentity(homeBridgeDir, 'home')).id;
    const d = await dispatchers.start(['--pool', '1', '--bridge-listen', '127.0.0.1:0', '--bridge-trust', homeId]);
    const cloudBridge = d.bridge as Bridge;
    expect(cloudBridge).not.toBeNull();
    const home = await network(dir, 'ada');
    closing.push(home.close);
    let homeBridged: BridgedPeers | null = null;
    const homeBridge = await Bridge.start({
      dataDir: homeBridgeDir,
      join: [{ bridgeId: cloudBridge.id, host: '127.0.0.1', port: cloudBridge.federation.port }],
      relay: { host: '127.0.0.1' },
      network: (access) => {
        homeBridged = new BridgedPeers({ ...access, host: '127.0.0.1' });
        return new DispatcherNetwork({ catalog: home.catalog, bridged: homeBridged, log: silent });
      },
      log: silent,
    });
    closing.push(() => homeBridge.stop());

    // A guest gets a peer; the home network lists it, through the home bridge.
    await vacantPeers(d, 1);
    const web = new WebClient(d.url);
    const loggedIn = await web.post('/guest', { _csrf: await web.csrf() });
    const userPeer = /^\/p\/([a-z2-7]{32})\//.exec(loggedIn.headers.get('location') ?? '')?.[1] as string;
    await web.follow(await web.get(loggedIn.headers.get('location') as string));
    await expect.poll(() => homeBridged?.entries().map((e) => e.id), { timeout: 20_000 }).toEqual([userPeer]);

    // The user's peer lists the home peer, and talks to it through the dispatcher's bridge.
    const ada = home.peer.peerId;
    const peersOfUser = async () =>
      (await (await web.get(`/p/${userPeer}/api/peers`)).json()) as { id: string; status: string; path: unknown }[];
    await expect
      .poll(async () => (await peersOfUser()).find((p) => p.id === ada), { timeout: 30_000 })
      .toMatchObject({ status: 'online' });
    const sent = await fetch(`${d.url}/p/${userPeer}/api/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: web.cookieHeader(`/p/${userPeer}/`) },
      body: JSON.stringify({ peerId: ada, text: 'hello home' }),
    });
    expect(sent.status).toBe(200);
    const history = async () =>
      (await (await web.get(`/p/${userPeer}/api/history/${ada}`)).json()) as { text: string; state: string }[];
    await expect.poll(history, { timeout: 30_000 }).toMatchObject([{ text: 'hello home', state: 'delivered' }]);
    expect((await peersOfUser()).find((p) => p.id === ada)?.path).toEqual({ kind: 'bridge', bridgeId: cloudBridge.id });
  });
});
