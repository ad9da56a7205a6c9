import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identify, Peer, type PeerSummary } from '@p2p-messenger/peer';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { HandDirectory } from '../../peer/test/helpers/loopback-bridge.js';
import { loadBridgeIdentity } from '../src/federation/bridge-identity.js';
import { Federation } from '../src/federation/federation.js';
import { InProcessNetwork } from '../src/local/in-process-network.js';
import { GreetingRelay } from '../src/relay/greeting-relay.js';
import { LocalEgress, type LocalPeerLocation } from '../src/relay/local-egress.js';
import { RelayLimits } from '../src/relay/relay-limits.js';
import { RelayListener } from '../src/relay/relay-listener.js';
import { RelayStats } from '../src/relay/relay-stats.js';
import { fromFederation } from '../src/relay/relay-targets.js';

const log = pino({ level: 'silent' });
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `relay-fed-${prefix}-`));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** One side: a bridge (federation, relay port, greeting port, egress) and its network of peers. */
async function side(name: string) {
  const dataDir = await tempDir(name);
  const bridgeIdentity = await loadBridgeIdentity(dataDir, name);
  const id = bridgeIdentity.id;
  const network = new InProcessNetwork();
  const locations = new Map<string, LocalPeerLocation>();
  const stats = new RelayStats();
  const captured: Buffer[] = [];
  const egress = new LocalEgress({
    bridgeId: id,
    locate: (peerId) => locations.get(peerId) ?? null,
    limits: new RelayLimits(),
    stats,
    log,
  });
  return { name, id, bridgeIdentity, dataDir, network, locations, stats, captured, egress };
}

type Side = Awaited<ReturnType<typeof side>>;

async function startSide(
  s: Side,
  spec: { trust?: string[]; join?: { bridgeId: string; host: string; port: number }[] },
) {
  const federation = new Federation({
    dataDir: s.dataDir,
    name: s.name,
    listen: spec.join ? undefined : { host: '127.0.0.1', port: 0 },
    trust: spec.trust,
    join: spec.join,
    localNetwork: s.network,
    egress: s.egress,
    log,
    backoff: { minDelayMs: 50, maxDelayMs: 400 },
  });
  await federation.start();
  cleanups.push(() => federation.stop());
  const targets = fromFederation(federation);
  const relay = new RelayListener(
    {
      targets,
      limits: new RelayLimits(),
      stats: s.stats,
      log,
      tap: (_d, chunk) => s.captured.push(Buffer.from(chunk)),
    },
    { host: '127.0.0.1' },
  );
  await relay.start();
  cleanups.push(() => relay.stop());
  const greeting = new GreetingRelay(
    { targets, stats: s.stats, log, ownRecord: () => s.bridgeIdentity.record(federation.port) },
    { host: '127.0.0.1' },
  );
  await greeting.start();
  cleanups.push(() => greeting.stop());
  const route = () => ({
    bridgeId: s.id,
    host: '127.0.0.1',
    greetingPort: greeting.port,
    securePort: relay.port,
    hops: 1,
  });
  return { federation, route };
}

/** A real peer on loopback with no address of its own in its record; its directory is the test's. */
async function startPeer(name: string, directory: HandDirectory): Promise<Peer> {
  const peer = new Peer({
    name,
    dataDir: await tempDir(name),
    listenHost: '127.0.0.1',
    discovery: { directories: [directory] },
    reconnectMinDelayMs: 50,
    reconnectMaxDelayMs: 500,
  });
  await peer.start();
  cleanups.push(() => peer.stop());
  return peer;
}

describe('a relay across two federated bridges', () => {
  it('carries greetings and TLS sessions hop by hop, end to end between the peers', async () => {
    const home = await side('home');
    const cloud = await side('cloud');
    const aliceDirectory = new HandDirectory();
    const bobDirectory = new HandDirectory();
    const alice = await startPeer('alice', aliceDirectory);
    const bob = await startPeer('bob', bobDirectory);
    home.locations.set(alice.id, {
      hosts: ['127.0.0.1'],
      greetingPort: alice.greetingPort,
      securePort: alice.securePort,
    });
    cloud.locations.set(bob.id, { hosts: ['127.0.0.1'], greetingPort: bob.greetingPort, securePort: bob.securePort });

    const cloudSide = await startSide(cloud, { trust: [home.id] });
    const homeSide = await startSide(home, {
      join: [{ bridgeId: cloud.id, host: '127.0.0.1', port: cloudSide.federation.port }],
    });
    // Each bridge learns its own peer's record, as its local network would.
    home.network.add(await identify(`127.0.0.1:${alice.greetingPort}`, alice.id));
    cloud.network.add(await identify(`127.0.0.1:${bob.greetingPort}`, bob.id));
    await until(
      'the bridges exchanged their peers',
      () => !!homeSide.federation.routeTo(bob.id) && !!cloudSide.federation.routeTo(alice.id),
    );
    aliceDirectory.list(bob.self(), [homeSide.route()]);
    bobDirectory.list(alice.self(), [cloudSide.route()]);

    await until('alice knows bob', () => alice.peers().some((p) => p.id === bob.id));
    const secret = 'meet me at the lighthouse after dark';
    const sent = await alice.send(bob.id, secret);
    const stateOf = () => alice.history(bob.id).find((m) => m.id === sent.id)?.state;
    await until('delivered across both bridges', () => stateOf() === 'delivered');
    const reply = await bob.send(alice.id, 'the lighthouse it is');
    await until('the reply arrives', () => alice.history(bob.id).some((m) => m.id === reply.id));

    // Each side sees the bridge its own session goes through: alice dialed home's relay, and
    // bob was greeted by the cloud bridge (the last one), which said so.
    const summary = (peer: Peer, other: Peer): PeerSummary | undefined => peer.peers().find((p) => p.id === other.id);
    expect(summary(alice, bob)?.path).toEqual({ kind: 'bridge', bridgeId: home.id });
    expect(summary(bob, alice)?.path).toEqual({ kind: 'bridge', bridgeId: cloud.id });
    expect(summary(alice, bob)?.addresses).toEqual([]);
    expect(summary(bob, alice)?.addresses).toEqual([]);

    const moved = Buffer.concat([...home.captured, ...cloud.captured]);
    expect(moved.length).toBeGreaterThan(1_000);
    for (const text of [secret, 'lighthouse']) expect(moved.includes(Buffer.from(text))).toBe(false);
    expect(home.stats.snapshot().refusals).toEqual({});
  });
});
