import { join } from 'node:path';
import type { MulticastStats } from '@p2p-messenger/discovery';
import { DirectoryProcess, type Lan, NetLab } from '@p2p-messenger/discovery/lab';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PeerProcess } from '../src/harness/peer-process.js';
import { loadOrCreateIdentity } from '../src/identity/local-identity.js';
import type { PeerSummary } from '../src/index.js';
import { TestResources } from './helpers/resources.js';

const MULTICAST = { intervalMs: 200, expiryMs: 800, families: ['ipv4' as const] };
const V4_GROUP = { family: 'ipv4' as const, group: '239.255.80.77', port: 47_474 };

describe('announcements carrying their signing key, on a LAN of network namespaces', () => {
  const resources = new TestResources();
  let lab: NetLab;
  let lan: Lan;
  beforeEach(async () => {
    if (!(await NetLab.available())) throw new Error('these tests need root and iproute2 (ip netns)');
    lab = await NetLab.create();
    resources.onCleanup(() => lab.destroy());
    lan = await lab.addLan();
  });
  afterEach(() => resources.cleanup());

  async function startPeer(name: string) {
    const host = await lab.addHost(lan);
    const dataDir = join(await resources.dir(), name);
    const peer = await PeerProcess.start({ name, dataDir, discovery: { multicast: MULTICAST } }, 20_000, host.netns);
    return { peer: resources.track(peer), dataDir };
  }

  const statsOf = async (peer: PeerProcess) => (await peer.request<MulticastStats>({ op: 'multicastStats' })).dropped;

  it('drops at once a carried key that is not the id’s, and a right key that did not sign', async () => {
    const [ada, bob] = await Promise.all([startPeer('ada'), startPeer('bob')]);
    await ada.peer.until(
      async () => (await ada.peer.request<PeerSummary[]>({ op: 'peers' })).some((p) => p.status === 'online'),
      'bob online',
    );
    const eveHost = await lab.addHost(lan);
    // eve's own hellos (her id is her key, not its hash: peers take them for forgeries too) go
    // out at her start only.
    const eve = await DirectoryProcess.start(lab, eveHost, {
      name: 'eve',
      greetingPort: 7400,
      securePort: 7401,
      families: ['ipv4'],
      intervalMs: 600_000,
      expiryMs: 2_400_000,
    });
    resources.onCleanup(() => eve.kill());
    await ada.peer.until(async () => (await statsOf(ada.peer)).forged >= 2, 'eve’s own two hellos');
    const bobsKey = (await loadOrCreateIdentity(bob.dataDir)).signingKeyRaw.toString('base64');

    const before = await statsOf(ada.peer);
    // eve's own key for bob's id, and for an id nobody has; then bob's key, with eve's signature.
    const forgeries = [
      { claimedId: bob.peer.id, carriedKey: 'own' as const },
      { claimedId: 'q'.repeat(32), carriedKey: 'own' as const },
      { claimedId: bob.peer.id, carriedKey: { base64: bobsKey } },
    ];
    for (const [i, forgery] of forgeries.entries()) {
      await eve.request({ op: 'forge', ...forgery, ...V4_GROUP });
      await ada.peer.until(async () => (await statsOf(ada.peer)).forged === before.forged + i + 1, `forgery ${i}`);
    }
    // Judged on the key they carried: nobody was greeted to fetch one.
    expect((await statsOf(ada.peer)).unverified).toBe(before.unverified);

    const seen = await ada.peer.request<PeerSummary[]>({ op: 'peers' });
    expect(seen.map((p) => p.id)).toEqual([bob.peer.id]);
    expect(seen[0]).toMatchObject({ name: 'bob', status: 'online' });
    expect(seen[0]?.addresses).not.toContain(eveHost.ipv4);
  });
});
