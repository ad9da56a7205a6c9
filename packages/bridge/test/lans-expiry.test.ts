import { describe, expect, it } from 'vitest';
import { bridgedLansPerTest } from './helpers/lab-per-test.js';
import { summaryOf, until, untilOnline } from './helpers/lan-peers.js';

/** Long enough that only a goodbye explains a quick disappearance; short enough for a test. */
const MULTICAST = { intervalMs: 300, expiryMs: 3_000 };
/** What a withdrawal takes from LAN B's bridge to LAN A's peers (a link message, a datagram), on a loaded machine. */
const MARGIN_MS = 3_000;

describe("a peer that leaves LAN B, as LAN A's peers see it", () => {
  const bridgedLans = bridgedLansPerTest();

  it('one stopped is gone at once (its goodbye withdrawn along); one killed once LAN B expires it', async () => {
    const lab = await bridgedLans({ lans: 2, multicast: MULTICAST });
    const [ada, bob, bea] = await Promise.all([
      lab.startPeer(0, 'ada'),
      lab.startPeer(1, 'bob'),
      lab.startPeer(1, 'bea'),
    ]);
    await untilOnline(ada.peer, bob.peer);
    await untilOnline(ada.peer, bea.peer);
    const advertised = async () => (await lab.bridge(0).metrics()).get('p2pm_bridge_remote_peers');
    expect(await advertised()).toBe(2);
    const goneFromA = (id: string) =>
      until(
        `${id} gone from LAN A`,
        () => summaryOf(ada.peer, id),
        (s) => s?.sources.length === 0,
      );

    const stoppedAt = Date.now();
    await bob.peer.stop();
    await goneFromA(bob.peer.id);
    expect(Date.now() - stoppedAt).toBeLessThan(MULTICAST.expiryMs);
    expect((await summaryOf(ada.peer, bob.peer.id))?.status).toBe('offline');
    expect(await advertised()).toBe(1);

    await bea.peer.kill();
    const killedAt = Date.now();
    await goneFromA(bea.peer.id);
    const took = Date.now() - killedAt;
    // Nothing tells LAN B's bridge at once: bea stays listed until it expires her there.
    expect(took).toBeGreaterThanOrEqual(MULTICAST.expiryMs - 2 * MULTICAST.intervalMs);
    expect(took).toBeLessThanOrEqual(MULTICAST.expiryMs + MARGIN_MS);
    expect((await summaryOf(ada.peer, bea.peer.id))?.status).toBe('offline');
    await until('no remote peer advertised on LAN A', advertised, (count) => count === 0);
    expect((await lab.bridge(1).metrics()).get('p2pm_bridge_local_peers')).toBe(0);
  }, 90_000);
});
