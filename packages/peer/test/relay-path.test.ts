import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../src/harness/peer-process.js';
import { greet, identify, Peer, type PeerSummary } from '../src/index.js';
import { HandDirectory, LoopbackBridge } from './helpers/loopback-bridge.js';

/** Polls until `check` holds (no fixed sleeps), or fails after `timeoutMs`. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('peers that reach each other only through a bridge', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function startPeer(
    name: string,
    directory: HandDirectory,
    web = false,
    advertisedAddresses: string[] = [],
  ): Promise<Peer> {
    const dir = await mkdtemp(join(tmpdir(), `relay-${name}-`));
    // No advertised address and no multicast: the peer's record carries no address at all,
    // so nothing but the bridge's route can lead to it.
    const peer = new Peer({
      name,
      dataDir: dir,
      listenHost: '127.0.0.1',
      discovery: { directories: [directory] },
      reconnectMinDelayMs: 50,
      reconnectMaxDelayMs: 500,
      advertisedAddresses,
      ...(web ? { web: { port: 0, host: '127.0.0.1' } } : {}),
    });
    await peer.start();
    cleanups.push(async () => {
      await peer.stop();
      await rm(dir, { recursive: true, force: true });
    });
    return peer;
  }

  /** A bridge on fixed ports (so it can come back at the same place) and two peers it relays for. */
  async function twoPeersThroughABridge() {
    const bridge = await LoopbackBridge.start({ greetingPort: await freePort(), securePort: await freePort() });
    cleanups.push(() => bridge.stop());
    const aliceDirectory = new HandDirectory();
    const bobDirectory = new HandDirectory();
    const alice = await startPeer('alice', aliceDirectory, true);
    const bob = await startPeer('bob', bobDirectory);
    for (const peer of [alice, bob]) bridge.serve(peer.self());
    aliceDirectory.list(bob.self(), [bridge.route()]);
    bobDirectory.list(alice.self(), [bridge.route()]);
    return { bridge, alice, bob };
  }

  const summaryOf = (peer: Peer, other: Peer): PeerSummary | undefined => peer.peers().find((p) => p.id === other.id);
  const stateOf = (peer: Peer, other: Peer, id: string) => peer.history(other.id).find((m) => m.id === id)?.state;

  it('greet, open a session and exchange messages through the relay, which sees only ciphertext', async () => {
    const { bridge, alice, bob } = await twoPeersThroughABridge();
    await until('alice and bob know each other', () => !!summaryOf(alice, bob) && !!summaryOf(bob, alice));
    // The bridge's address is nobody's: neither keeps an address for the other.
    expect(summaryOf(alice, bob)?.addresses).toEqual([]);
    expect(summaryOf(bob, alice)?.addresses).toEqual([]);

    const secret = 'the parcel is under the blue bench at noon';
    const sent = await alice.send(bob.id, secret);
    await until('delivered through the bridge', () => stateOf(alice, bob, sent.id) === 'delivered');
    const reply = await bob.send(alice.id, 'got it, thanks for the parcel note');
    await until('the reply arrives', () => alice.history(bob.id).some((m) => m.id === reply.id));
    expect(bob.history(alice.id).map((m) => m.text)).toEqual([secret, 'got it, thanks for the parcel note']);

    const bridged = { kind: 'bridge', bridgeId: bridge.id };
    expect(summaryOf(alice, bob)?.path).toEqual(bridged);
    expect(summaryOf(bob, alice)?.path).toEqual(bridged);
    expect(alice.sessions().map((s) => s.path)).toEqual([bridged]);

    // The owner's API says so too.
    const base = `http://127.0.0.1:${alice.webPort}`;
    const login = await fetch(`${base}${alice.loginPath()}`, { redirect: 'manual' });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const listed = (await (await fetch(`${base}/api/peers`, { headers: { cookie } })).json()) as PeerSummary[];
    expect(listed.find((p) => p.id === bob.id)?.path).toEqual(bridged);

    // What the relay moved: TLS records, both ways, with no plaintext of either message in it.
    const moved = Buffer.concat(bridge.captured);
    expect(moved.length).toBeGreaterThan(1_000);
    expect(moved[0]).toBe(0x16);
    for (const text of [secret, 'parcel', 'got it, thanks']) expect(moved.includes(Buffer.from(text))).toBe(false);
    const stats = bridge.stats.snapshot();
    expect(stats.bytesToTarget).toBeGreaterThan(0);
    expect(stats.bytesFromTarget).toBeGreaterThan(0);
    expect(stats.refusals).toEqual({});
  });

  it('keeps none of the addresses a far peer signed: they are of its own network', async () => {
    const bridge = await LoopbackBridge.start({ greetingPort: await freePort(), securePort: await freePort() });
    cleanups.push(() => bridge.stop());
    const [aliceDirectory, bobDirectory] = [new HandDirectory(), new HandDirectory()];
    // Loopback addresses nobody listens at, standing for the far LANs' own addresses.
    const alice = await startPeer('alice', aliceDirectory, false, ['127.0.0.8']);
    const bob = await startPeer('bob', bobDirectory, false, ['127.0.0.9']);
    for (const peer of [alice, bob]) bridge.serve(peer.self());
    aliceDirectory.list(bob.self(), [bridge.route()]);
    await until('alice knows bob', () => !!summaryOf(alice, bob));
    const sent = await alice.send(bob.id, 'hello from afar');
    await until('delivered', () => stateOf(alice, bob, sent.id) === 'delivered');
    // Alice met bob through the bridge's greeting; bob met alice when she greeted him through it.
    expect(summaryOf(alice, bob)?.addresses).toEqual([]);
    expect(summaryOf(bob, alice)?.addresses).toEqual([]);
  });

  it('keeps messages queued while no bridge is there, and sends them when it comes back', async () => {
    const { bridge, alice, bob } = await twoPeersThroughABridge();
    await until('alice knows bob', () => !!summaryOf(alice, bob));
    const first = await alice.send(bob.id, 'before the bridge goes');
    await until('first delivered', () => stateOf(alice, bob, first.id) === 'delivered');

    await bridge.pause();
    await until('alice sees bob go offline', () => summaryOf(alice, bob)?.path === null);
    const queued = await Promise.all(['while away 1', 'while away 2'].map((text) => alice.send(bob.id, text)));
    expect(queued.map((m) => stateOf(alice, bob, m.id))).toEqual(['queued', 'queued']);

    await bridge.resume();
    await until('queued messages delivered', () => queued.every((m) => stateOf(alice, bob, m.id) === 'delivered'));
    expect(bob.history(alice.id).map((m) => m.text)).toEqual([
      'before the bridge goes',
      'while away 1',
      'while away 2',
    ]);
    expect(summaryOf(alice, bob)?.path).toEqual({ kind: 'bridge', bridgeId: bridge.id });
  });

  it('prefers a direct path once one is listed, at the next dial, without cutting the relayed session', async () => {
    const bridge = await LoopbackBridge.start({ greetingPort: await freePort(), securePort: await freePort() });
    cleanups.push(() => bridge.stop());
    const aliceDirectory = new HandDirectory();
    const alice = await startPeer('alice', aliceDirectory);
    const bob = await startPeer('bob', new HandDirectory());
    bridge.serve(bob.self());
    aliceDirectory.list(bob.self(), [bridge.route()]);
    await until('alice knows bob', () => !!summaryOf(alice, bob));
    const first = await alice.send(bob.id, 'first, through the bridge');
    await until('first delivered', () => stateOf(alice, bob, first.id) === 'delivered');
    expect(summaryOf(alice, bob)?.path).toEqual({ kind: 'bridge', bridgeId: bridge.id });

    // bob becomes reachable directly: the working session stays as it is.
    aliceDirectory.list(bob.self(), [bridge.route()], ['127.0.0.1']);
    const second = await alice.send(bob.id, 'second, same session');
    await until('second delivered', () => stateOf(alice, bob, second.id) === 'delivered');
    expect(summaryOf(alice, bob)?.path).toEqual({ kind: 'bridge', bridgeId: bridge.id });

    // Once that session goes (the bridge leaves), the next dial takes the direct path.
    await bridge.pause();
    await until('a direct session', () => summaryOf(alice, bob)?.path?.kind === 'direct');
    const third = await alice.send(bob.id, 'third, direct');
    await until('third delivered', () => stateOf(alice, bob, third.id) === 'delivered');
  });

  it('refuses a greeting, a record or a TLS session for a peer the bridge does not advertise', async () => {
    const bridge = await LoopbackBridge.start();
    cleanups.push(() => bridge.stop());
    const bob = await startPeer('bob', new HandDirectory());
    // bob runs, and the egress could reach him, but the bridge does not advertise him.
    bridge.locations.set(bob.id, { hosts: ['127.0.0.1'], greetingPort: bob.greetingPort, securePort: bob.securePort });
    const at = `127.0.0.1:${bridge.greeting.port}`;
    const request = { identity: undefined, knownPeers: [], targetId: bob.id, viaBridgeId: '' };
    const refusal = await greet(at, request, bob.id).catch((err: grpc.ServiceError) => err);
    expect((refusal as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
    expect((refusal as grpc.ServiceError).details).toContain(bob.id);
    const identifyRefusal = await identify(at, bob.id).catch((err: grpc.ServiceError) => err);
    expect((identifyRefusal as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
    // A greeting that names no peer: a bridge is not a peer. Identify without a target: the bridge itself.
    const untargeted = await greet(at, { ...request, targetId: '' }, undefined).catch((err: grpc.ServiceError) => err);
    expect((untargeted as grpc.ServiceError).code).toBe(grpc.status.FAILED_PRECONDITION);
    expect((await identify(at, bridge.id)).id).toBe(bridge.id);

    // A TLS session naming bob: closed before any byte reaches him.
    const closed = await new Promise<string>((resolve) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: bridge.relay.port,
        servername: bob.id,
        rejectUnauthorized: false,
      });
      socket.once('secureConnect', () => resolve('connected'));
      socket.once('error', (err) => resolve(`error: ${err.message}`));
      socket.once('close', () => resolve('closed'));
    });
    expect(closed).not.toBe('connected');
    expect(bridge.stats.snapshot().refusals['not-advertised']).toBe(3);
    expect(bridge.captured).toEqual([]);
    expect(bob.peers()).toEqual([]);
  });
});
