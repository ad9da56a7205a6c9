import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, PeerProcess } from '../src/harness/peer-process.js';
import type { MessageRecord, PeerSummary } from '../src/index.js';
import { TestResources } from './helpers/resources.js';

type SessionInfo = { peerId: string; initiator: 'local' | 'remote'; openedAtMs: number };

describe('two peers', () => {
  const resources = new TestResources();
  afterEach(() => resources.cleanup());

  async function startPeer(name: string, dir: string, ports: { greetingPort?: number; securePort?: number } = {}) {
    return resources.track(await PeerProcess.start({ name, dataDir: join(dir, name), ...ports }));
  }

  /** Bob listens on fixed ports, so that he can come back at the same address. */
  async function aliceContactsBobOnFixedPorts() {
    const dir = await resources.dir();
    const ports = { greetingPort: await freePort(), securePort: await freePort() };
    const alice = await startPeer('alice', dir);
    const bob = await startPeer('bob', dir, ports);
    await alice.request({ op: 'contact', address: `127.0.0.1:${ports.greetingPort}` });
    return { dir, ports, alice, bob };
  }

  const history = (peer: PeerProcess, other: PeerProcess) =>
    peer.request<MessageRecord[]>({ op: 'history', peerId: other.id, limit: 1000 });

  async function waitForState(peer: PeerProcess, other: PeerProcess, text: string, state: string) {
    await peer.until(
      async () => (await history(peer, other)).some((m) => m.text === text && m.state === state),
      `"${text}" to be ${state}`,
    );
  }

  it('exchange messages both ways and see delivered and read', async () => {
    const dir = await resources.dir();
    const alice = await startPeer('alice', dir);
    const bob = await startPeer('bob', dir);
    const bobSeen = await alice.request<PeerSummary>({
      op: 'contact',
      address: `127.0.0.1:${bob.greetingPort}`,
    });
    expect(bobSeen).toMatchObject({ id: bob.id, name: 'bob', fingerprint: bob.fingerprint });

    await alice.request({ op: 'send', peerId: bob.id, text: 'hi bob' });
    await bob.until(() => bob.received === 1, 'bob to receive');
    await bob.request({ op: 'send', peerId: alice.id, text: 'hi alice' });
    await alice.until(() => alice.received === 1, 'alice to receive');

    await waitForState(alice, bob, 'hi bob', 'delivered');
    expect(await bob.request({ op: 'markRead', peerId: alice.id })).toBe(1);
    await waitForState(alice, bob, 'hi bob', 'read');

    const [aliceView, bobView] = [await history(alice, bob), await history(bob, alice)];
    expect(aliceView.map((m) => [m.text, m.outgoing])).toEqual([
      ['hi bob', true],
      ['hi alice', false],
    ]);
    expect(bobView.map((m) => m.id)).toEqual(aliceView.map((m) => m.id));
    const bobPeers = await bob.request<PeerSummary[]>({ op: 'peers' });
    expect(bobPeers).toMatchObject([{ id: alice.id, name: 'alice', online: true, fingerprint: alice.fingerprint }]);
  });

  it('keep the same order on both sides when both write at once', async () => {
    const dir = await resources.dir();
    const alice = await startPeer('alice', dir);
    const bob = await startPeer('bob', dir);
    await alice.request({ op: 'contact', address: `127.0.0.1:${bob.greetingPort}` });
    await bob.until(async () => (await bob.request<PeerSummary[]>({ op: 'peers' })).length === 1, 'bob to know alice');
    await Promise.all([
      alice.request({ op: 'sendMany', peerId: bob.id, count: 300, prefix: 'a', chunk: 7 }),
      bob.request({ op: 'sendMany', peerId: alice.id, count: 300, prefix: 'b', chunk: 5 }),
    ]);
    await alice.until(() => alice.received === 300 && bob.received === 300, 'all 600 messages to arrive');
    const aliceView = (await history(alice, bob)).map((m) => m.id);
    const bobView = (await history(bob, alice)).map((m) => m.id);
    expect(aliceView).toHaveLength(600);
    expect(bobView).toEqual(aliceView);
  });

  it('hold messages for an offline peer and deliver them when it is back, after a restart of the sender too', async () => {
    const { dir, ports, ...pair } = await aliceContactsBobOnFixedPorts();
    let { alice, bob } = pair;
    await bob.stop();

    await alice.request({ op: 'send', peerId: bob.id, text: 'while you were out' });
    expect(await alice.request({ op: 'outboxSize' })).toBe(1);
    await alice.stop();
    alice = await startPeer('alice', dir);
    expect(await alice.request({ op: 'outboxSize' })).toBe(1);

    bob = await startPeer('bob', dir, ports);
    await waitForState(alice, bob, 'while you were out', 'delivered');
    expect((await history(bob, alice)).map((m) => m.text)).toEqual(['while you were out']);
    expect(await alice.request({ op: 'outboxSize' })).toBe(0);
  });

  it('end with one stream when both dial at the same time', async () => {
    const dir = await resources.dir();
    const alice = await startPeer('alice', dir);
    const bob = await startPeer('bob', dir);
    await Promise.all([
      alice.request({ op: 'contact', address: `127.0.0.1:${bob.greetingPort}` }),
      bob.request({ op: 'contact', address: `127.0.0.1:${alice.greetingPort}` }),
    ]);
    const sessionsOf = (peer: PeerProcess) => peer.request<SessionInfo[]>({ op: 'sessions' });
    // Both sides end up holding the same stream: opened by one of them, accepted by the other.
    // (When both dials overlap, the smaller id's wins: see session-registry.test.ts; for a
    // moment each side may hold the other's dial.)
    const oneStream = async () => {
      const [a, b] = [await sessionsOf(alice), await sessionsOf(bob)];
      return a.length === 1 && b.length === 1 && [a[0]?.initiator, b[0]?.initiator].sort().join() === 'local,remote';
    };
    await alice.until(oneStream, 'one session on each side, the same stream');

    await alice.request({ op: 'send', peerId: bob.id, text: 'one stream' });
    await bob.request({ op: 'send', peerId: alice.id, text: 'both ways' });
    await waitForState(alice, bob, 'one stream', 'delivered');
    await waitForState(bob, alice, 'both ways', 'delivered');
    const [aliceAfter, ...aliceMore] = await sessionsOf(alice);
    const [bobAfter, ...bobMore] = await sessionsOf(bob);
    expect([aliceMore, bobMore]).toEqual([[], []]);
    expect([aliceAfter?.initiator, bobAfter?.initiator].sort()).toEqual(['local', 'remote']);
  });

  it('reconnect by themselves after the other side restarts', async () => {
    const { dir, ports, alice, ...pair } = await aliceContactsBobOnFixedPorts();
    let { bob } = pair;
    await alice.until(async () => (await alice.request<SessionInfo[]>({ op: 'sessions' })).length === 1, 'a session');
    await bob.kill();
    bob = await startPeer('bob', dir, ports);
    await alice.request({ op: 'send', peerId: bob.id, text: 'are you back?' });
    await waitForState(alice, bob, 'are you back?', 'delivered');
  });
});
