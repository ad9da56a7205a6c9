import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { greet, identify, loadOrCreateIdentity, Peer, signIdentityRecord } from '@p2p-messenger/peer';
import { type PeerIdentity, PROTOCOL_VERSION } from '@p2p-messenger/proto';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { GreetingRelay } from '../src/relay/greeting-relay.js';
import { LocalEgress } from '../src/relay/local-egress.js';
import { RelayLimits } from '../src/relay/relay-limits.js';
import { RelayStats } from '../src/relay/relay-stats.js';
import { fromEgress } from '../src/relay/relay-targets.js';

const log = pino({ level: 'silent' });
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'relay-greeting-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A real peer on loopback (no discovery), and a bridge whose greeting port relays to it. */
async function bridgeBeforeBob(egressLimits = {}) {
  const bob = new Peer({ name: 'bob', dataDir: await tempDir(), listenHost: '127.0.0.1' });
  await bob.start();
  cleanups.push(() => bob.stop());
  const bridgeIdentity = await loadOrCreateIdentity(await tempDir());
  const stats = new RelayStats();
  const egress = new LocalEgress({
    bridgeId: bridgeIdentity.id,
    locate: (id) =>
      id === bob.id ? { hosts: ['127.0.0.1'], greetingPort: bob.greetingPort, securePort: bob.securePort } : null,
    limits: new RelayLimits(egressLimits),
    stats,
    log,
  });
  const relay: GreetingRelay = new GreetingRelay({
    targets: fromEgress(egress, (id) => id === bob.id, bridgeIdentity.id),
    stats,
    log,
    ownRecord: (): PeerIdentity =>
      signIdentityRecord(bridgeIdentity, {
        name: 'bridge',
        addresses: [],
        greetingPort: relay.port,
        securePort: 0,
        protocolVersion: PROTOCOL_VERSION,
      }),
  });
  await relay.start();
  cleanups.push(() => relay.stop());
  return { bob, egress, relay, stats, bridgeId: bridgeIdentity.id, at: `127.0.0.1:${relay.port}` };
}

async function greeter(addresses: string[]) {
  const identity = await loadOrCreateIdentity(await tempDir());
  const record = signIdentityRecord(identity, {
    name: 'ada',
    addresses,
    greetingPort: 7001,
    securePort: 7002,
    protocolVersion: PROTOCOL_VERSION,
  });
  return { id: identity.id, record };
}

describe('GreetingRelay and LocalEgress', () => {
  it('relays a greeting to the advertised peer: its own record comes back, no known peers either way', async () => {
    const { bob, at } = await bridgeBeforeBob();
    const ada = await greeter(['10.77.0.5']);
    const stranger = { id: 'zzzz', name: 'x', addresses: ['10.77.0.9'], greetingPort: 1, securePort: 2, lastSeenMs: 1 };
    const answer = await greet(
      at,
      { identity: ada.record, knownPeers: [stranger], targetId: bob.id, viaBridgeId: '' },
      bob.id,
    );
    expect(answer.identity.id).toBe(bob.id);
    expect(answer.knownPeers).toEqual([]);
    expect(answer.observedAddress).toBe('');
    // bob keeps no address of ada: not the bridge's (loopback) one, nor those her record claims
    // (of her own network, behind the bridge); and heard of no one else through the bridge.
    const known = bob.peers();
    expect(known.map((p) => p.id)).toEqual([ada.id]);
    expect(known[0]?.addresses).toEqual([]);
    // Identify: bob's record through the bridge; the bridge's own without a target.
    expect((await identify(at, bob.id)).id).toBe(bob.id);
  });

  it('says which peer it does not relay to, and that a bridge is greeted for a peer only', async () => {
    const { at, stats, bridgeId } = await bridgeBeforeBob();
    const ada = await greeter([]);
    const request = { identity: ada.record, knownPeers: [], targetId: ada.id, viaBridgeId: '' };
    const notHere = await greet(at, request, ada.id).catch((err: grpc.ServiceError) => err);
    expect((notHere as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
    expect((notHere as grpc.ServiceError).details).toBe(`this bridge relays to no peer ${ada.id}`);
    const noTarget = await greet(at, { ...request, targetId: '' }, undefined).catch((err: grpc.ServiceError) => err);
    expect((noTarget as grpc.ServiceError).code).toBe(grpc.status.FAILED_PRECONDITION);
    expect((await identify(at, bridgeId)).name).toBe('bridge');
    expect(stats.snapshot().refusals).toEqual({ 'not-advertised': 1 });
  });

  it('egress: refuses an unknown peer and a relay over its per-link limit, and frees the slot on close', async () => {
    const { bob, egress } = await bridgeBeforeBob({ maxPerSource: 1 });
    const unknown = await egress.connect('nobody', 'bridge-a').catch((err: Error) => err);
    expect((unknown as Error).name).toBe('NoRouteError');
    const first = await egress.connect(bob.id, 'bridge-a');
    const over = await egress.connect(bob.id, 'bridge-a').catch((err: Error & { code?: number }) => err);
    expect((over as Error).name).toBe('RelayRefusedError');
    expect((over as { code?: number }).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const otherLink = await egress.connect(bob.id, 'bridge-b');
    otherLink.destroy();
    first.destroy();
    await new Promise((resolve) => first.once('close', resolve));
    const again = await egress.connect(bob.id, 'bridge-a');
    again.destroy();
  });
});
