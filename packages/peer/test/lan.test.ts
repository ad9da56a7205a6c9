import { join } from 'node:path';
import { DirectoryProcess, type LabHost, type Lan, NetLab } from '@p2p-messenger/discovery/lab';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PeerProcess } from '../src/harness/peer-process.js';
import type { MessageRecord, PeerSummary } from '../src/index.js';
import { Started } from './helpers/cli-process.js';
import { TestResources } from './helpers/resources.js';

const MULTICAST = { intervalMs: 200, expiryMs: 800, families: ['ipv4' as const, 'ipv6' as const] };
const V4_GROUP = { family: 'ipv4' as const, group: '239.255.80.77', port: 47_474 };

describe('peers on LANs built from network namespaces, found by multicast', () => {
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

  async function startPeer(name: string, on: Lan = lan, multicast = MULTICAST) {
    const host = await lab.addHost(on);
    const dir = await resources.dir();
    const peer = await PeerProcess.start(
      { name, dataDir: join(dir, name), discovery: { multicast }, reconnectMinDelayMs: 50, reconnectMaxDelayMs: 500 },
      20_000,
      host.netns,
    );
    return { peer: resources.track(peer), host: host as LabHost };
  }

  const peersOf = (peer: PeerProcess) => peer.request<PeerSummary[]>({ op: 'peers' });
  const statusOf = async (peer: PeerProcess, id: string) => (await peersOf(peer)).find((p) => p.id === id);

  it('three peers find each other with no address given, and chat', async () => {
    const [ada, bob, cyd] = await Promise.all([startPeer('ada'), startPeer('bob'), startPeer('cyd')]);
    const all = [ada, bob, cyd];
    for (const { peer } of all) {
      await peer.until(async () => {
        const seen = await peersOf(peer);
        return seen.length === 2 && seen.every((p) => p.status === 'online' && p.sources.includes('multicast'));
      }, 'the other two to be online through multicast');
    }
    const adaSeenByBob = await statusOf(bob.peer, ada.peer.id);
    expect(adaSeenByBob?.addresses).toContain(ada.host.ipv4);
    expect(adaSeenByBob?.fingerprint).toBe(ada.peer.fingerprint);

    await ada.peer.request({ op: 'send', peerId: cyd.peer.id, text: 'hi cyd, found you on the LAN' });
    await cyd.peer.until(() => cyd.peer.received === 1, 'cyd to receive');
    await cyd.peer.request({ op: 'send', peerId: ada.peer.id, text: 'hi ada' });
    await ada.peer.until(() => ada.peer.received === 1, 'ada to receive');
    const history = await ada.peer.request<MessageRecord[]>({ op: 'history', peerId: cyd.peer.id, limit: 10 });
    expect(history.map((m) => m.text)).toEqual(['hi cyd, found you on the LAN', 'hi ada']);
  });

  it('a stopped peer goes offline at once (goodbye); a killed one once it expires', async () => {
    // A long expiry, so that only the goodbye can explain a quick disappearance.
    const multicast = { ...MULTICAST, expiryMs: 3_000 };
    const [ada, bob, cyd] = await Promise.all([
      startPeer('ada', lan, multicast),
      startPeer('bob', lan, multicast),
      startPeer('cyd', lan, multicast),
    ]);
    await ada.peer.until(
      async () => (await peersOf(ada.peer)).filter((p) => p.status === 'online').length === 2,
      'both online',
    );
    const stoppedAt = Date.now();
    const stopping = bob.peer.stop();
    await ada.peer.until(async () => (await statusOf(ada.peer, bob.peer.id))?.status === 'offline', 'bob offline');
    expect(Date.now() - stoppedAt).toBeLessThan(multicast.expiryMs);
    expect((await statusOf(ada.peer, bob.peer.id))?.sources).toEqual([]);
    await stopping;

    const killedAt = Date.now();
    await cyd.peer.kill();
    // Nothing tells the LAN at once: cyd stays listed until the expiry.
    await ada.peer.until(
      async () => (await statusOf(ada.peer, cyd.peer.id))?.sources.length === 0,
      'cyd to expire',
      10_000,
    );
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(multicast.expiryMs - 2 * multicast.intervalMs);
    expect((await statusOf(ada.peer, cyd.peer.id))?.status).toBe('offline');
  });

  it('does not see a peer of another LAN', async () => {
    const otherLan = await lab.addLan();
    const [ada, bob, far] = await Promise.all([startPeer('ada'), startPeer('bob'), startPeer('far', otherLan)]);
    await ada.peer.until(async () => (await peersOf(ada.peer)).length === 1, 'bob to be found');
    await new Promise((resolve) => setTimeout(resolve, 5 * MULTICAST.intervalMs));
    expect((await peersOf(ada.peer)).map((p) => p.id)).toEqual([bob.peer.id]);
    expect(await peersOf(far.peer)).toEqual([]);
  });

  it('ignores a forged announcement and survives garbage datagrams', async () => {
    const [ada, bob] = await Promise.all([startPeer('ada'), startPeer('bob')]);
    await ada.peer.until(async () => (await statusOf(ada.peer, bob.peer.id))?.status === 'online', 'bob online');
    const eveHost = await lab.addHost(lan);
    const eve = await DirectoryProcess.start(lab, eveHost, { name: 'eve', greetingPort: 7400, securePort: 7401 });
    // eve claims bob's id (known to ada) and an id nobody has yet (ada must ask eve to prove it).
    await eve.request({ op: 'forge', claimedId: bob.peer.id, ...V4_GROUP });
    await eve.request({ op: 'forge', claimedId: 'q'.repeat(32), ...V4_GROUP });
    for (const junk of ['not an announcement', 'P2PM\u0009from the future', 'P2PM\u0001\u00ff\u00ff']) {
      await eve.request({ op: 'sendRaw', bytesBase64: Buffer.from(junk).toString('base64'), ...V4_GROUP });
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const bobAsSeen = await statusOf(ada.peer, bob.peer.id);
    expect(bobAsSeen).toMatchObject({ name: 'bob', status: 'online' });
    expect(bobAsSeen?.addresses).not.toContain(eveHost.ipv4);
    expect((await peersOf(ada.peer)).map((p) => p.id)).toEqual([bob.peer.id]);
    // Both still work.
    await ada.peer.request({ op: 'send', peerId: bob.peer.id, text: 'still here' });
    await bob.peer.until(() => bob.peer.received === 1, 'bob to receive');
    await eve.kill();
  });

  it('the peer command finds LAN peers by default and lists them with status and source', async () => {
    const started = new Started();
    resources.onCleanup(() => started.cleanup());
    const [adaHost, bobHost] = [await lab.addHost(lan), await lab.addHost(lan)];
    const args = async (name: string) => ['--name', name, '--data-dir', join(await resources.dir(), name)];
    const ada = started.cliInNamespace(adaHost.netns, 'ada', [...(await args('ada')), '--announce-interval', '200']);
    const bob = started.cliInNamespace(bobHost.netns, 'bob', [...(await args('bob')), '--announce-interval', '200']);
    await ada.waitFor(/^\* bob \([a-z2-7]{8}\) is online$/m);
    await bob.waitFor(/^\* ada \([a-z2-7]{8}\) is online$/m);
    // Both dial at once; the list may show the moment one of the two sessions gives way.
    await expect
      .poll(
        async () => {
          const since = ada.mark();
          ada.type('/peers');
          await ada.waitFor(/^ +1 {2}bob .*$/m, { since });
          return ada.output().slice(since);
        },
        { timeout: 10_000, interval: 200 },
      )
      .toMatch(/^ +1 {2}bob {2}[a-z2-7]{8} {2}online {2}via multicast$/m);
    const since = ada.mark();
    bob.type('/quit');
    await ada.waitFor(/^\* bob \([a-z2-7]{8}\) is offline$/m, { since });
    ada.type('/peers');
    await ada.waitFor(/^ +1 {2}bob {2}[a-z2-7]{8} {2}offline, seen \d+s ago$/m, { since });
    ada.type('/quit');
    expect(await ada.exited).toEqual({ code: 0, signal: null });
  });
});
