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
import { EmbeddedCatalog, LocalProcessOrchestrator, type PeerInstance } from '../src/index.js';

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
      const ada = await catalog.claim('user-ada');
      expect(ada?.id).toBeDefined();
      await expect.poll(() => events, { timeout: 10_000 }).toEqual([`found ${ada?.id}`]);
      const record = records.get(ada?.id as string);
      expect(record).toMatchObject({ id: ada?.id, name: 'ada', greetingPort: ada?.greetingPort });
      expect(record?.signature.length).toBe(64);
      await catalog.setHealthy(ada?.id as string, false);
      await expect.poll(() => events, { timeout: 10_000 }).toEqual([`found ${ada?.id}`, `lost ${ada?.id}`]);
      await catalog.setHealthy(ada?.id as string, true);
      await catalog.claim('user-bob');
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
      await catalog.release(ada?.id as string);
      await expect.poll(() => network.peers().map((r) => r.name), { timeout: 10_000 }).toEqual(['bob']);
    } finally {
      await network.stop();
    }
  });

  it('asks a listed peer that does not answer again later, and gets its record once it does', async () => {
    const network = new DispatcherNetwork({ catalog, bridged: new BridgedPeers(BRIDGE), log: silent });
    const { events } = recorder(network);
    const [ada] = peers as [PeerInstance];
    // Listed at a port where nothing answers: no record, no event, no error.
    await catalog.register({ ...ada, id: ada.peerId, greetingPort: 1 });
    await catalog.claim('user-ada');
    await network.start();
    try {
      await catalog.register({ ...ada, id: ada.peerId });
      await expect.poll(() => events, { timeout: 10_000 }).toEqual([`found ${ada.peerId}`]);
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
    const [ada, bob] = peers as [PeerInstance, PeerInstance];
    await catalog.claim('user-ada');
    await expect.poll(() => network.peers().length, { timeout: 10_000 }).toBe(1);
    const own = network.peers()[0] as PeerIdentity;
    const directory = (selfId: string) =>
      new CatalogHttpDirectory({ url, token: 'catalog-token', selfId, retry: { minDelayMs: 50 }, log: silent });
    // A peer the catalog does not know: one of another network, as far as it can tell.
    const elsewhere = await orchestrator.start({ name: 'carol' });
    const carol = await identify(`127.0.0.1:${elsewhere.greetingPort}`, elsewhere.peerId);
    const adas = directory(ada.peerId);
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
      const spare = await fetch(`${url}/peers?peer=${bob.peerId}`, {
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
