import type { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RemoteRoute } from '@p2p-messenger/bridge';
import { CatalogHttpDirectory } from '@p2p-messenger/discovery';
import { identify } from '@p2p-messenger/peer';
import type { PeerIdentity } from '@p2p-messenger/proto';
import Fastify from 'fastify';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BridgedPeers } from '../src/bridge/bridged-peers.js';
import { DispatcherNetwork } from '../src/bridge/dispatcher-network.js';
import { catalogApi } from '../src/http/catalog-api.js';
import { type CatalogPeer, EmbeddedCatalog, LocalProcessOrchestrator, type PeerInstance } from '../src/index.js';

const silent = pino({ level: 'silent' });
const BRIDGE = { bridgeId: 'b'.repeat(52), host: '127.0.0.1', greetingPort: 47_001, securePort: 47_002 };

/** What a LocalNetwork told its bridge, in order. */
function recorder(network: EventEmitter) {
  const events: string[] = [];
  const records = new Map<string, PeerIdentity>();
  network.on('localFound', (record: PeerIdentity) => {
    records.set(record.id, record);
    events.push(`found ${record.id}`);
  });
  network.on('localLost', (id: string) => events.push(`lost ${id}`));
  return { events, records };
}

/** A remote peer as the federation hands it over (its record made by a real peer elsewhere). */
function remoteRoute(record: PeerIdentity, hops = 1): RemoteRoute {
  return { peerId: record.id, name: record.name, hops, nextHop: 'c'.repeat(52), record };
}

describe("The dispatcher's network, as its bridge sees it", () => {
  let dir: string;
  let orchestrator: LocalProcessOrchestrator;
  let catalog: EmbeddedCatalog;
  let peers: PeerInstance[];
  const register = (p: PeerInstance) => catalog.register({ ...p, id: p.peerId });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bridge-network-'));
    orchestrator = new LocalProcessOrchestrator({ dataRoot: join(dir, 'peers') });
    catalog = new EmbeddedCatalog(join(dir, 'catalog.db'));
    peers = await Promise.all([orchestrator.start({ name: 'ada' }), orchestrator.start({ name: 'bob' })]);
    for (const peer of peers) await register(peer);
  });
  afterEach(async () => {
    await orchestrator.close();
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("offers the users' peers that are up, with the records they signed, and nothing of the spare ones", async () => {
    const bridged = new BridgedPeers(BRIDGE);
    const network = new DispatcherNetwork({ catalog, bridged, log: silent });
    const { events, records } = recorder(network);
    await network.start();
    try {
      expect(network.peers()).toEqual([]);
      // Whichever peer the catalog hands out first: the user's peer, offered with its own record.
      const first = (await catalog.claim('user-1')) as CatalogPeer;
      const other = first.id === peers[0]?.peerId ? 'bob' : 'ada';
      await expect.poll(() => events, { timeout: 10_000 }).toEqual([`found ${first.id}`]);
      const record = records.get(first.id);
      expect(record).toMatchObject({ id: first.id, name: first.name, greetingPort: first.greetingPort });
      expect(record?.signature.length).toBe(64);
      await catalog.setHealthy(first.id, false);
      await expect.poll(() => events, { timeout: 10_000 }).toEqual([`found ${first.id}`, `lost ${first.id}`]);
      await catalog.setHealthy(first.id, true);
      await catalog.claim('user-2');
      await expect
        .poll(
          () =>
            network
              .peers()
              .map((r) => r.name)
              .sort(),
          { timeout: 10_000 },
        )
        .toEqual(['ada', 'bob']);
      await catalog.release(first.id);
      await expect.poll(() => network.peers().map((r) => r.name), { timeout: 10_000 }).toEqual([other]);
    } finally {
      await network.stop();
    }
  });

  it('asks a listed peer that does not answer again later, and gets its record once it does', async () => {
    const network = new DispatcherNetwork({ catalog, bridged: new BridgedPeers(BRIDGE), log: silent });
    const { events } = recorder(network);
    const [ada, bob] = peers as [PeerInstance, PeerInstance];
    // Ada alone, listed at a port where nothing answers: no record, no event, no error.
    await catalog.remove(bob.peerId);
    await catalog.register({ ...ada, id: ada.peerId, greetingPort: 1 });
    expect((await catalog.claim('user-ada'))?.id).toBe(ada.peerId);
    await network.start();
    try {
      await catalog.register({ ...ada, id: ada.peerId });
      await expect.poll(() => events, { timeout: 10_000 }).toEqual([`found ${ada.peerId}`]);
    } finally {
      await network.stop();
    }
  });

  it('does not ask a peer that did not answer again at each catalog change, only when its time comes or it moved', async () => {
    const asked: string[] = [];
    const network = new DispatcherNetwork({
      catalog,
      bridged: new BridgedPeers(BRIDGE),
      log: silent,
      // Longer than the test: any second question before the move came from a catalog change.
      identifyRetry: { minDelayMs: 600_000, maxDelayMs: 600_000 },
      identify: (host, port, peerId) => {
        asked.push(`${peerId}@${port}`);
        return identify(`${host}:${port}`, peerId, { timeoutMs: 2_000 });
      },
    });
    const { events } = recorder(network);
    const [ada, bob] = peers as [PeerInstance, PeerInstance];
    await catalog.register({ ...ada, id: ada.peerId, greetingPort: 1 });
    await catalog.claim('user-ada');
    await catalog.claim('user-bob');
    await network.start();
    try {
      await expect.poll(() => events, { timeout: 10_000 }).toEqual([`found ${bob.peerId}`]);
      // Catalog changes that do not touch ada: bob goes and comes back.
      await catalog.remove(bob.peerId);
      await expect.poll(() => events.length, { timeout: 10_000 }).toBe(2);
      await register(bob);
      await catalog.claim('user-bob');
      await expect.poll(() => events.length, { timeout: 10_000 }).toBe(3);
      expect(asked.filter((a) => a.startsWith(ada.peerId))).toEqual([`${ada.peerId}@1`]);

      // Ada moved (her real port): asked there at once.
      await catalog.register({ ...ada, id: ada.peerId });
      await expect.poll(() => events.at(-1), { timeout: 10_000 }).toBe(`found ${ada.peerId}`);
    } finally {
      await network.stop();
    }
  });

  it("lists peers of other networks to users' peers through the catalog, with the bridge's route, until withdrawn", async () => {
    const bridged = new BridgedPeers(BRIDGE);
    const network = new DispatcherNetwork({ catalog, bridged, log: silent });
    const app = Fastify();
    catalogApi(app, { catalog, token: 'catalog-token', bridged });
    const url = `${await app.listen({ port: 0, host: '127.0.0.1' })}/catalog/v1`;
    await network.start();
    // The user's peer (whichever the catalog hands out) and the spare one.
    const users = (await catalog.claim('user-1')) as CatalogPeer;
    const spareId = peers.map((p) => p.peerId).find((id) => id !== users.id) as string;
    await expect.poll(() => network.peers().length, { timeout: 10_000 }).toBe(1);
    const own = network.peers()[0] as PeerIdentity;
    const directory = (selfId: string) =>
      new CatalogHttpDirectory({ url, token: 'catalog-token', selfId, retry: { minDelayMs: 50 }, log: silent });
    // A peer the catalog does not know: one of another network, as far as it can tell.
    const elsewhere = await orchestrator.start({ name: 'carol' });
    const carol = await identify(`127.0.0.1:${elsewhere.greetingPort}`, elsewhere.peerId);
    const adas = directory(users.id);
    await adas.start();
    try {
      network.advertise([remoteRoute(carol, 2), remoteRoute(own)]);
      await expect
        .poll(() => adas.peer(carol.id), { timeout: 10_000 })
        .toMatchObject({
          name: 'carol',
          addresses: [],
          relays: [{ ...BRIDGE, hops: 2 }],
        });
      // A peer of our own is never listed as one of another network.
      expect(bridged.entries().map((e) => e.id)).toEqual([carol.id]);
      network.withdraw([carol.id]);
      await expect.poll(() => adas.peer(carol.id), { timeout: 10_000 }).toBeUndefined();
      // A spare peer sees nobody, the bridged peers neither.
      network.advertise([remoteRoute(carol)]);
      const spare = await fetch(`${url}/peers?peer=${spareId}`, {
        headers: { authorization: 'Bearer catalog-token' },
      });
      expect(((await spare.json()) as { peers: unknown[] }).peers).toEqual([]);
      await expect.poll(() => adas.peer(carol.id), { timeout: 10_000 }).toBeDefined();
      await network.stop();
      await expect.poll(() => adas.peer(carol.id), { timeout: 10_000 }).toBeUndefined();
    } finally {
      await adas.stop();
      await network.stop();
      await app.close();
    }
  });
});
