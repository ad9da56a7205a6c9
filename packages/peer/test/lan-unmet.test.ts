import { join } from 'node:path';
import { type LabHost, type Lan, NetLab } from '@p2p-messenger/discovery/lab';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PeerProcess } from '../src/harness/peer-process.js';
import type { PeerSummary } from '../src/index.js';
import { TestResources } from './helpers/resources.js';

const MULTICAST = { intervalMs: 200, expiryMs: 800, families: ['ipv4' as const] };
/** TCP in and out of a host's namespace, but for its loopback: multicast (UDP) still passes. */
const TCP_RULES = [
  ['INPUT', '-i'],
  ['OUTPUT', '-o'],
] as const;

describe('a peer shown from its announcement before any greeting reaches it', () => {
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

  async function startPeer(name: string, host: LabHost) {
    const dataDir = join(await resources.dir(), name);
    const peer = await PeerProcess.start({ name, dataDir, discovery: { multicast: MULTICAST } }, 20_000, host.netns);
    return resources.track(peer);
  }

  const setTcp = (host: LabHost, blocked: boolean) =>
    Promise.all(
      TCP_RULES.map(([chain, side]) =>
        lab.exec(host, 'iptables', [blocked ? '-A' : '-D', chain, '!', side, 'lo', '-p', 'tcp', '-j', 'DROP']),
      ),
    );

  it('lists it with its name and fingerprint at once, refuses a message while it cannot be greeted, and sends once it can', async () => {
    const bobHost = await lab.addHost(lan);
    // No greeting either way: only bob's announcements reach ada.
    await setTcp(bobHost, true);
    const [ada, bob] = await Promise.all([startPeer('ada', await lab.addHost(lan)), startPeer('bob', bobHost)]);

    const bobSeen = async () => (await ada.request<PeerSummary[]>({ op: 'peers' })).find((p) => p.id === bob.id);
    await expect.poll(bobSeen, { timeout: 10_000, interval: 50 }).toMatchObject({
      name: 'bob',
      fingerprint: bob.fingerprint,
      status: 'online',
      sources: ['multicast'],
    });
    await expect(ada.request({ op: 'send', peerId: bob.id, text: 'not yet' })).rejects.toMatchObject({
      name: 'UnknownPeerError',
    });

    await setTcp(bobHost, false);
    await expect
      .poll(
        async () => {
          try {
            await ada.request({ op: 'send', peerId: bob.id, text: 'now you are met' });
            return true;
          } catch {
            return false;
          }
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe(true);
    await bob.until(() => bob.received === 1, 'bob to receive', 30_000);
  });

  it('shows it offline when it leaves before it was met, as it would a peer it had met', async () => {
    const bobHost = await lab.addHost(lan);
    await setTcp(bobHost, true);
    const [ada, bob] = await Promise.all([startPeer('ada', await lab.addHost(lan)), startPeer('bob', bobHost)]);
    const lastAbout = (id: string) => ada.peerEvents.filter((e) => e.summary.id === id).at(-1)?.summary;
    await expect.poll(() => lastAbout(bob.id)?.status, { timeout: 10_000 }).toBe('online');

    await bob.stop();
    await expect.poll(() => lastAbout(bob.id), { timeout: 10_000 }).toMatchObject({ status: 'offline', sources: [] });
    const listed = await ada.request<PeerSummary[]>({ op: 'peers' });
    expect(listed.find((p) => p.id === bob.id)).toMatchObject({ name: 'bob', status: 'offline', sources: [] });
  });
});
