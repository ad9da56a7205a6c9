import { createPublicKey } from 'node:crypto';
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { createIdentityCertificate, loadOrCreateIdentity } from '@p2p-messenger/peer';
import { FederationService } from '@p2p-messenger/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { Federation } from '../src/federation/federation.js';
import { federationService } from '../src/federation/federation-service.js';
import { linkServerCredentials } from '../src/federation/link-credentials.js';
import { LinkDialer } from '../src/federation/link-dialer.js';
import { InProcessNetwork } from '../src/local/in-process-network.js';
import { NoRouteError, RelayRefusedError } from '../src/relay-seam.js';
import {
  advertisedNames,
  type BridgeSpec,
  counterValue,
  LinkCable,
  makePeer,
  prepareBridge,
  quietLog,
  Resources,
  readBytes,
  routesOf,
  startBridge,
} from './helpers/federation-bridges.js';

const resources = new Resources();
afterEach(() => resources.release());

/**
 * Two bridges, alice's home dialing bob's cloud (which trusts it), started with one peer
 * each; the link runs through a LinkCable, for the tests that cut the network between them.
 */
async function homeAndCloud(options: { keepalive?: BridgeSpec['keepalive'] } = {}) {
  const home = await prepareBridge(resources, 'home');
  const cloud = await prepareBridge(resources, 'cloud');
  const alice = await makePeer(resources, 'alice');
  const bob = await makePeer(resources, 'bob');
  home.network.add(alice);
  cloud.network.add(bob);
  const { keepalive } = options;
  await startBridge(resources, cloud, { trust: [home.id], keepalive });
  const cable = await LinkCable.lay(resources, cloud.federation.port);
  await startBridge(resources, home, { listen: false, join: [{ ...cloud.target(), port: cable.port }], keepalive });
  return { home, cloud, alice, bob, cable, all: [home, cloud] };
}

describe('federation between two bridges', () => {
  it('links over pinned TLS and exchanges peers both ways, incrementally, with removals', async () => {
    const { home, cloud, alice, bob, all } = await homeAndCloud();
    await expect.poll(() => routesOf(home, all)).toEqual(['bob/1/cloud']);
    await expect.poll(() => routesOf(cloud, all)).toEqual(['alice/1/home']);
    expect(advertisedNames(home)).toEqual(['bob']);
    expect(advertisedNames(cloud)).toEqual(['alice']);
    expect(home.federation.routeTo(bob.id)?.record.sealingKey).toEqual(bob.sealingKey);
    expect(home.federation.localPeer(alice.id)?.id).toBe(alice.id);

    const [homeLink] = home.federation.linkStates();
    expect(homeLink).toMatchObject({ bridgeId: cloud.id, role: 'dialer', up: true, lastError: null });
    expect(cloud.federation.linkStates()).toEqual([expect.objectContaining({ bridgeId: home.id, up: true })]);
    expect(await counterValue(cloud.registry, 'p2pm_bridge_links_up', {})).toBe(1);

    // A re-signed record (a new name) replaces the old one on the other side.
    const renamed = await makePeer(resources, 'carol');
    home.network.add(renamed);
    await expect.poll(() => routesOf(cloud, all)).toEqual(['alice/1/home', 'carol/1/home']);
    home.network.remove(alice.id);
    await expect.poll(() => routesOf(cloud, all)).toEqual(['carol/1/home']);
    expect(advertisedNames(cloud)).toEqual(['carol']);
  });

  it('relays greetings, identifies and byte streams in both directions, and refuses unknown targets', async () => {
    const { home, cloud, alice, bob } = await homeAndCloud();
    await expect.poll(() => home.federation.routeTo(bob.id)?.nextHop).toBe(cloud.id);
    await expect.poll(() => cloud.federation.routeTo(alice.id)?.nextHop).toBe(home.id);

    // Dialer -> listener: a Relay call of its own.
    const greeting = await home.federation.relayGreeting(bob.id, {
      identity: alice,
      knownPeers: [],
      targetId: bob.id,
      viaBridgeId: '',
    });
    expect(greeting.identity?.id).toBe(bob.id);
    expect(cloud.egress.greetings.at(-1)?.identity?.id).toBe(alice.id);
    expect((await home.federation.relayIdentify(bob.id)).id).toBe(bob.id);
    const toBob = await home.federation.openRelay(bob.id);
    toBob.write('hello bob');
    expect((await readBytes(toBob, 32 + 1 + 9)).toString()).toBe(`${bob.id}:hello bob`);
    expect(cloud.egress.connections).toEqual([{ targetId: bob.id, fromBridgeId: home.id }]);
    toBob.end();

    // Listener -> dialer: asked for on the Link, opened by the dialer with a ticket.
    expect((await cloud.federation.relayIdentify(alice.id)).id).toBe(alice.id);
    const toAlice = await cloud.federation.openRelay(alice.id);
    toAlice.write('hello alice');
    expect((await readBytes(toAlice, 32 + 1 + 11)).toString()).toBe(`${alice.id}:hello alice`);
    const big = Buffer.alloc(4 * 1024 * 1024, 7);
    toAlice.write(big);
    expect((await readBytes(toAlice, big.length)).equals(big)).toBe(true);
    toAlice.destroy();

    // Only advertised peers: no route here, and a target the far side does not hold.
    const stranger = await makePeer(resources, 'stranger');
    await expect(home.federation.openRelay(stranger.id)).rejects.toThrow(NoRouteError);
    await expect(home.federation.relayIdentify(stranger.id)).rejects.toMatchObject({ name: 'NoRouteError' });
    home.network.remove(alice.id);
    await expect.poll(() => cloud.federation.routeTo(alice.id)).toBeNull();
    await expect(cloud.federation.openRelay(alice.id)).rejects.toThrow(NoRouteError);
  });

  it('a refusal further along comes back as RelayRefusedError with its code', async () => {
    const { home, cloud, bob } = await homeAndCloud();
    await expect.poll(() => home.federation.routeTo(bob.id)).not.toBeNull();
    // The relay side at the cloud is over its limits, while the route still stands.
    cloud.egress.refusing = true;
    const refused = await home.federation.openRelay(bob.id).catch((err: Error) => err);
    expect(refused).toBeInstanceOf(RelayRefusedError);
    expect(refused).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, message: expect.stringContaining('limit') });
    const greeting = { identity: undefined, knownPeers: [], targetId: bob.id, viaBridgeId: '' };
    await expect(home.federation.relayGreeting(bob.id, greeting)).rejects.toMatchObject({
      name: 'RelayRefusedError',
      code: grpc.status.RESOURCE_EXHAUSTED,
    });
    expect(await counterValue(cloud.registry, 'p2pm_bridge_federation_refusals_total', { reason: 'no-route' })).toBe(0);
  });
});

describe('federation between two bridges that join each other', () => {
  it('keeps one link, the one the lower id dialed, on both ends, without flapping', async () => {
    const one = await prepareBridge(resources, 'one');
    const two = await prepareBridge(resources, 'two');
    one.network.add(await makePeer(resources, 'p1'));
    two.network.add(await makePeer(resources, 'p2'));
    await startBridge(resources, one, { trust: [two.id] });
    await startBridge(resources, two, { trust: [one.id], join: [one.target()] });
    // one learns two's port only now: it starts again on its own port, joining two as well.
    const port = one.federation.port;
    await one.federation.stop();
    await startBridge(resources, one, { trust: [two.id], port, join: [two.target()] });
    const all = [one, two];
    await expect.poll(() => routesOf(one, all)).toEqual(['p2/1/two']);
    await expect.poll(() => routesOf(two, all)).toEqual(['p1/1/one']);
    const [lower, higher] = one.id < two.id ? [one, two] : [two, one];
    // The higher id's dialer is turned away again and again; the lower id's link stays up.
    await expect
      .poll(() => higher.federation.linkStates().find((s) => s.role === 'dialer')?.attempts ?? 0)
      .toBeGreaterThan(2);
    const kept = lower.federation.linkStates().find((state) => state.role === 'dialer');
    expect(kept).toMatchObject({ up: true, attempts: 0 });
    expect(await counterValue(lower.registry, 'p2pm_bridge_links_up', {})).toBe(1);
    expect(await counterValue(higher.registry, 'p2pm_bridge_links_up', {})).toBe(1);
    expect(await counterValue(lower.registry, 'p2pm_bridge_link_drops_total', {})).toBe(0);
    expect(routesOf(one, all)).toEqual(['p2/1/two']);
    expect(routesOf(two, all)).toEqual(['p1/1/one']);
  });
});

describe('federation refuses bridges it does not trust', () => {
  it('an unknown bridge: PERMISSION_DENIED, logged and counted; no peers cross', async () => {
    const cloud = await prepareBridge(resources, 'cloud');
    const stranger = await prepareBridge(resources, 'stranger');
    stranger.network.add(await makePeer(resources, 'mallory'));
    cloud.network.add(await makePeer(resources, 'bob'));
    await startBridge(resources, cloud, { trust: [] });
    await startBridge(resources, stranger, { listen: false, join: [cloud.target()] });
    await expect.poll(() => stranger.federation.linkStates()[0]?.lastError ?? '').toContain('PERMISSION_DENIED');
    expect(stranger.federation.linkStates()[0]?.lastError).toContain('not trusted');
    await expect
      .poll(() => counterValue(cloud.registry, 'p2pm_bridge_federation_refusals_total', { reason: 'untrusted-bridge' }))
      .toBeGreaterThan(0);
    expect(cloud.federation.remotePeers()).toEqual([]);
    expect(stranger.federation.remotePeers()).toEqual([]);
    expect(cloud.federation.linkStates()).toEqual([]);
  });

  it('an impostor presenting a certificate that names a trusted id, without its key: refused', async () => {
    const cloud = await prepareBridge(resources, 'cloud');
    const home = await prepareBridge(resources, 'home');
    await startBridge(resources, cloud, { trust: [home.id] });
    const impostor = await loadOrCreateIdentity(await resources.tempDir('impostor'));
    // Its own key, in a certificate whose subject and DNS name are the trusted home bridge.
    const certificatePem = await createIdentityCertificate(
      home.id,
      impostor.signingKey,
      createPublicKey(impostor.signingKey),
    );
    const forged = { ...impostor, id: home.id, certificatePem };
    const states: string[] = [];
    const dialer = new LinkDialer({
      identity: forged,
      target: cloud.target(),
      log: quietLog,
      backoff: { minDelayMs: 50, maxDelayMs: 200 },
      onSession: () => {
        throw new Error('the impostor got a link');
      },
      onState: (state) => states.push(state.lastError ?? ''),
    });
    dialer.start();
    resources.defer(() => dialer.stop());
    await expect.poll(() => states.at(-1) ?? '').toContain('PERMISSION_DENIED');
    expect(states.at(-1)).toContain(impostor.id);
    expect(cloud.federation.linkStates()).toEqual([]);
    expect(
      await counterValue(cloud.registry, 'p2pm_bridge_federation_refusals_total', { reason: 'untrusted-bridge' }),
    ).toBeGreaterThan(0);
  });

  it('a listener replaying the expected bridge record without its key: the dialer never links', async () => {
    const cloud = await prepareBridge(resources, 'cloud');
    const home = await prepareBridge(resources, 'home');
    await startBridge(resources, cloud, { trust: [home.id] });
    const genuineRecord = (await import('../src/federation/bridge-identity.js')).loadBridgeIdentity;
    const cloudRecord = (await genuineRecord(cloud.dataDir, 'cloud')).record(cloud.federation.port);
    // The impostor answers Identify with cloud's real (public, signed) record, over its own TLS key.
    const impostor = await loadOrCreateIdentity(await resources.tempDir('impostor'));
    const server = new grpc.Server();
    server.addService(
      FederationService,
      federationService({
        ownRecord: () => cloudRecord,
        isTrusted: () => true,
        acceptLink: () => {
          throw new Error('no link may reach the impostor');
        },
        acceptRelay: () => {},
        refused: () => {},
      }),
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', linkServerCredentials(impostor), (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
    resources.defer(async () => {
      server.forceShutdown();
    });
    await startBridge(resources, home, { listen: false, join: [{ bridgeId: cloud.id, host: '127.0.0.1', port }] });
    await expect.poll(() => home.federation.linkStates()[0]?.attempts ?? 0).toBeGreaterThan(1);
    expect(home.federation.linkStates()[0]).toMatchObject({ up: false });
    expect(home.federation.linkStates()[0]?.lastError).toMatch(/UNAVAILABLE|not peer/);

    // And one that answers with its own record is told apart at Identify.
    const other = await prepareBridge(resources, 'other');
    await startBridge(resources, other, { trust: [home.id] });
    const wrong = await prepareBridge(resources, 'home2');
    await startBridge(resources, wrong, { listen: false, join: [{ ...other.target(), bridgeId: cloud.id }] });
    await expect.poll(() => wrong.federation.linkStates()[0]?.lastError ?? '').toContain(`is not bridge ${cloud.id}`);
  });
});

describe('federation of three bridges', () => {
  async function three(topology: 'line' | 'triangle') {
    const a = await prepareBridge(resources, 'a');
    const b = await prepareBridge(resources, 'b');
    const c = await prepareBridge(resources, 'c');
    a.network.add(await makePeer(resources, 'pa'));
    b.network.add(await makePeer(resources, 'pb'));
    c.network.add(await makePeer(resources, 'pc'));
    await startBridge(resources, a, { trust: [b.id, c.id] });
    await startBridge(resources, b, { trust: [c.id], join: [a.target()] });
    await startBridge(resources, c, {
      listen: false,
      join: topology === 'line' ? [b.target()] : [a.target(), b.target()],
    });
    return [a, b, c] as const;
  }

  it('in a line: each peer listed once everywhere with its hops, and a removal propagates', async () => {
    const [a, b, c] = await three('line');
    const all = [a, b, c];
    await expect.poll(() => routesOf(a, all)).toEqual(['pb/1/b', 'pc/2/b']);
    await expect.poll(() => routesOf(b, all)).toEqual(['pa/1/a', 'pc/1/c']);
    await expect.poll(() => routesOf(c, all)).toEqual(['pa/2/b', 'pb/1/b']);
    expect(advertisedNames(a)).toEqual(['pb', 'pc']);
    expect(advertisedNames(c)).toEqual(['pa', 'pb']);
    // A relay across two links reaches the far peer.
    const pa = a.network.peers()[0]?.id as string;
    const stream = await c.federation.openRelay(pa);
    stream.write('x');
    expect((await readBytes(stream, 34)).toString()).toBe(`${pa}:x`);
    expect(a.egress.connections.at(-1)).toEqual({ targetId: pa, fromBridgeId: b.id });
    stream.destroy();
    c.network.remove(c.network.peers()[0]?.id as string);
    await expect.poll(() => routesOf(a, all)).toEqual(['pb/1/b']);
    expect(advertisedNames(a)).toEqual(['pb']);
    expect(routesOf(b, all)).toEqual(['pa/1/a']);
  });

  it('in a triangle: direct links win, no loops, no duplicates, removal propagates; a cut link falls back', async () => {
    const [a, b, c] = await three('triangle');
    const all = [a, b, c];
    await expect.poll(() => routesOf(a, all)).toEqual(['pb/1/b', 'pc/1/c']);
    await expect.poll(() => routesOf(b, all)).toEqual(['pa/1/a', 'pc/1/c']);
    await expect.poll(() => routesOf(c, all)).toEqual(['pa/1/a', 'pb/1/b']);
    for (const bridge of all) expect(advertisedNames(bridge)).toHaveLength(2);
    const pb = b.network.peers()[0]?.id as string;
    b.network.remove(pb);
    await expect.poll(() => routesOf(a, all)).toEqual(['pc/1/c']);
    await expect.poll(() => routesOf(c, all)).toEqual(['pa/1/a']);
    b.network.add(await makePeer(resources, 'pb2'));
    await expect.poll(() => routesOf(c, all)).toEqual(['pa/1/a', 'pb2/1/b']);

    // b stops: its link to a and c go; a and c keep each other, and nothing of b's remains.
    await b.federation.stop();
    await expect.poll(() => routesOf(a, all)).toEqual(['pc/1/c']);
    await expect.poll(() => routesOf(c, all)).toEqual(['pa/1/a']);
    expect(advertisedNames(a)).toEqual(['pc']);
  });

  it('in a triangle, a lost link is routed around through the third bridge', async () => {
    const [a, b, c] = await three('triangle');
    const all = [a, b, c];
    await expect.poll(() => routesOf(c, all)).toEqual(['pa/1/a', 'pb/1/b']);
    // c's own link to a is cut by stopping c's dialer to a alone: restart c joining b only.
    await c.federation.stop();
    await startBridge(resources, c, { listen: false, join: [b.target()] });
    await expect.poll(() => routesOf(c, all)).toEqual(['pa/2/b', 'pb/1/b']);
    await expect.poll(() => routesOf(a, all)).toEqual(['pb/1/b', 'pc/2/b']);
  });
});

describe('federation links recover', () => {
  it('a link killed (listener closed) and restored: the dialer reconnects and the tables converge again', async () => {
    const { home, cloud, all } = await homeAndCloud();
    const port = cloud.federation.port;
    await expect.poll(() => routesOf(home, all)).toEqual(['bob/1/cloud']);

    const down = once(home.federation, 'linkState');
    await cloud.federation.stop();
    const [state] = await down;
    expect(state).toMatchObject({ up: false });
    await expect.poll(() => routesOf(home, all)).toEqual([]);
    expect(advertisedNames(home)).toEqual([]);
    await expect.poll(() => home.federation.linkStates()[0]?.attempts ?? 0).toBeGreaterThan(1);

    cloud.network.add(await makePeer(resources, 'dave'));
    await startBridge(resources, cloud, { trust: [home.id], port });
    await expect.poll(() => routesOf(home, all), { timeout: 10_000 }).toEqual(['bob/1/cloud', 'dave/1/cloud']);
    await expect.poll(() => routesOf(cloud, all)).toEqual(['alice/1/home']);
    expect(home.federation.linkStates()[0]).toMatchObject({ up: true, attempts: 0, lastError: null });
    expect(await counterValue(home.registry, 'p2pm_bridge_link_drops_total', {})).toBe(1);
  });
});

describe('federation links recover from a network cut', () => {
  it('the connection reset under a link: both sides withdraw, the dialer reconnects, the tables converge', async () => {
    const { home, cloud, cable, all } = await homeAndCloud();
    await expect.poll(() => routesOf(home, all)).toEqual(['bob/1/cloud']);
    await expect.poll(() => routesOf(cloud, all)).toEqual(['alice/1/home']);

    await cable.cut();
    await expect.poll(() => routesOf(home, all)).toEqual([]);
    await expect.poll(() => routesOf(cloud, all)).toEqual([]);
    expect(advertisedNames(cloud)).toEqual([]);
    await expect.poll(() => home.federation.linkStates()[0]?.attempts ?? 0).toBeGreaterThan(1);
    expect(home.federation.linkStates()[0]?.up).toBe(false);
    expect(cloud.federation.linkStates()[0]).toMatchObject({ bridgeId: home.id, up: false });

    home.network.add(await makePeer(resources, 'erin'));
    await cable.restore();
    await expect.poll(() => routesOf(cloud, all), { timeout: 10_000 }).toEqual(['alice/1/home', 'erin/1/home']);
    await expect.poll(() => routesOf(home, all)).toEqual(['bob/1/cloud']);
    expect(cloud.federation.linkStates()[0]).toMatchObject({ bridgeId: home.id, up: true, lastError: null });
  });

  it('a link gone silent (nothing crosses, nothing closes) is found dead by keepalive on both sides', async () => {
    const keepalive = { timeMs: 300, timeoutMs: 300 };
    const { home, cloud, cable, all } = await homeAndCloud({ keepalive });
    await expect.poll(() => routesOf(home, all)).toEqual(['bob/1/cloud']);
    cable.freeze();
    await expect.poll(() => routesOf(home, all), { timeout: 10_000 }).toEqual([]);
    await expect.poll(() => routesOf(cloud, all), { timeout: 10_000 }).toEqual([]);
    expect(home.federation.linkStates()[0]?.up).toBe(false);
  });

  it('back-pressure through a relay: a receiver that does not read stops the sender, and nothing is lost', async () => {
    const { home, bob } = await homeAndCloud();
    await expect.poll(() => home.federation.routeTo(bob.id)).not.toBeNull();
    const stream = await home.federation.openRelay(bob.id);
    stream.on('error', () => {});
    // The echo comes back to us, and we do not read it: every buffer on the way fills up.
    const chunk = Buffer.alloc(256 * 1024);
    let written = 0;
    const limit = 256 * 1024 * 1024;
    while (written < limit) {
      chunk.fill(written / chunk.length);
      written += chunk.length;
      if (!stream.write(Buffer.from(chunk))) {
        // Held: wait whether it drains by itself (it must not while nobody reads).
        const drained = await Promise.race([
          once(stream, 'drain').then(() => true),
          new Promise<boolean>((resolve) => setTimeout(resolve, 1_000, false)),
        ]);
        if (!drained) break;
      }
    }
    expect(written).toBeLessThan(limit);
    const back = await readBytes(stream, 33 + written);
    expect(back.subarray(0, 33).toString()).toBe(`${bob.id}:`);
    for (let i = 0; i < written / chunk.length; i++) {
      expect(back[33 + i * chunk.length]).toBe(i & 0xff);
    }
    stream.destroy();
  });

  it('a stopped bridge withdraws what it advertised locally, reaches nothing, and reports nothing more', async () => {
    const { home, cloud, bob } = await homeAndCloud();
    await expect.poll(() => advertisedNames(home)).toEqual(['bob']);
    const changes: unknown[] = [];
    await home.federation.stop();
    home.federation.on('remoteChanged', (change) => changes.push(change));
    expect(advertisedNames(home)).toEqual([]);
    expect(home.federation.remotePeers()).toEqual([]);
    await expect(home.federation.openRelay(bob.id)).rejects.toThrow(NoRouteError);
    cloud.network.add(await makePeer(resources, 'frank'));
    await expect.poll(() => cloud.federation.linkStates()[0]?.up).toBe(false);
    expect(changes).toEqual([]);
    await home.federation.stop();
  });
});

describe('federation configuration', () => {
  it('refuses ids that are not bridge ids, joins without a port, and a port already in use', async () => {
    const network = new InProcessNetwork();
    const base = { dataDir: await resources.tempDir('config'), localNetwork: network, log: quietLog };
    expect(() => new Federation({ ...base, trust: ['not-an-id'] })).toThrow(
      expect.objectContaining({ name: 'FederationConfigError', message: expect.stringContaining('--trust') }),
    );
    const id = 'a'.repeat(32);
    expect(() => new Federation({ ...base, join: [{ bridgeId: 'nope', host: 'h', port: 1 }] })).toThrow(/bridge id/);
    expect(() => new Federation({ ...base, join: [{ bridgeId: id, host: 'h', port: 0 }] })).toThrow(
      /needs a host and a port/,
    );
    expect(() => new Federation({ ...base, listen: { host: '127.0.0.1', port: 70_000 } })).toThrow(/not a port/);
    const twice = { bridgeId: id, host: 'h', port: 1 };
    expect(() => new Federation({ ...base, join: [twice, twice] })).toThrow(/twice/);

    const first = await prepareBridge(resources, 'first');
    await startBridge(resources, first, {});
    const second = new Federation({ ...base, listen: { host: '127.0.0.1', port: first.federation.port } });
    await expect(second.start()).rejects.toMatchObject({ name: 'FederationListenError' });
    await second.stop();
  });
});
