import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsulStandIn } from '../../discovery/test/helpers/consul-standin.js';
import { freePort, PeerProcess } from '../src/harness/peer-process.js';
import type { MessageRecord, PeerSummary } from '../src/index.js';
import { TestResources } from './helpers/resources.js';

const peersOf = (peer: PeerProcess) => peer.request<PeerSummary[]>({ op: 'peers' });

describe('finding peers without multicast', () => {
  const resources = new TestResources();
  afterEach(() => resources.cleanup());

  async function startPeer(name: string, extra: object = {}) {
    const dir = await resources.dir();
    return resources.track(await PeerProcess.start({ name, dataDir: join(dir, name), ...extra }));
  }

  it('a newcomer that knows one peer meets the rest through gossip', async () => {
    const hub = await startPeer('hub');
    const ada = await startPeer('ada');
    const bob = await startPeer('bob');
    await ada.request({ op: 'contact', address: `127.0.0.1:${hub.greetingPort}` });
    await bob.request({ op: 'contact', address: `127.0.0.1:${hub.greetingPort}` });
    const newcomer = await startPeer('new', { staticPeers: [`127.0.0.1:${hub.greetingPort}`] });
    await newcomer.until(async () => (await peersOf(newcomer)).length === 3, 'ada and bob to be learned');
    const seen = await peersOf(newcomer);
    expect(seen.find((p) => p.id === hub.id)?.sources).toEqual(['static']);
    for (const id of [ada.id, bob.id]) expect(seen.find((p) => p.id === id)?.sources).toEqual(['gossip']);
    await newcomer.request({ op: 'send', peerId: bob.id, text: 'hub told me about you' });
    await bob.until(() => bob.received === 1, 'bob to receive');
    const history = await bob.request<MessageRecord[]>({ op: 'history', peerId: newcomer.id, limit: 5 });
    expect(history.map((m) => m.text)).toEqual(['hub told me about you']);
  });

  it('a listed peer that cannot be reached shows as unreachable, and online again when back', async () => {
    const dir = await resources.dir();
    const ports = { greetingPort: await freePort(), securePort: await freePort() };
    const bob = resources.track(await PeerProcess.start({ name: 'bob', dataDir: join(dir, 'bob'), ...ports }));
    const ada = await startPeer('ada', {
      staticPeers: [`127.0.0.1:${ports.greetingPort}`],
      reconnectMinDelayMs: 50,
      reconnectMaxDelayMs: 200,
    });
    const bobAsSeen = async () => (await peersOf(ada)).find((p) => p.id === bob.id);
    await ada.until(async () => (await bobAsSeen())?.status === 'online', 'bob online');
    await bob.kill();
    await ada.until(async () => (await bobAsSeen())?.status === 'unreachable', 'bob unreachable');
    expect((await bobAsSeen())?.sources).toEqual(['static']);
    resources.track(await PeerProcess.start({ name: 'bob', dataDir: join(dir, 'bob'), ...ports }));
    await ada.until(async () => (await bobAsSeen())?.status === 'online', 'bob online again');
  });

  it('peers registered in Consul find each other there and chat', async () => {
    const consul = await ConsulStandIn.start();
    resources.onCleanup(() => consul.stop());
    const settings = {
      advertisedAddresses: ['127.0.0.1'],
      discovery: { consul: { agent: consul.address, ttlMs: 1_000 } },
    };
    const ada = await startPeer('ada', settings);
    const bob = await startPeer('bob', settings);
    for (const [peer, other] of [
      [ada, bob],
      [bob, ada],
    ] as const) {
      await peer.until(async () => {
        const seen = (await peersOf(peer)).find((p) => p.id === other.id);
        return seen?.status === 'online' && seen.sources.includes('consul');
      }, 'the other peer online through Consul');
    }
    expect(
      consul
        .services()
        .map((s) => s.meta?.fingerprint)
        .sort(),
    ).toEqual([ada.fingerprint, bob.fingerprint].sort());
    await ada.request({ op: 'send', peerId: bob.id, text: 'found you in the catalog' });
    await bob.until(() => bob.received === 1, 'bob to receive');
    await bob.stop();
    // Deregistered on stop: ada no longer lists bob through Consul.
    await ada.until(
      async () => (await peersOf(ada)).find((p) => p.id === bob.id)?.sources.length === 0,
      'bob to leave the catalog',
    );
    expect(consul.services().map((s) => s.id)).toEqual([ada.id]);
  });
});
