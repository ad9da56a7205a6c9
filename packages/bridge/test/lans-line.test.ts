import { describe, expect, it } from 'vitest';
import { bridgedLansPerTest } from './helpers/lab-per-test.js';
import { summaryOf, until } from './helpers/lan-peers.js';
import { checkThreeLans } from './helpers/three-lans.js';

describe('three LANs joined in a line (A-B-C)', () => {
  const bridgedLans = bridgedLansPerTest();

  it('the ends message each other through the middle; every peer is listed once on every other LAN', async () => {
    const lans = await bridgedLans({ lans: 3, topology: 'line' });
    const [ada, bob, cyd] = await checkThreeLans(lans);
    if (!ada || !bob || !cyd) throw new Error('three peers expected');
    // A's bridge has one link, to B's: C's peer came to it through B. With B's bridge gone,
    // both B's and C's peers leave LAN A (withdrawn along the line), and A's bridge has none left.
    expect((await lans.bridge(0).metrics()).get('p2pm_bridge_links_up')).toBe(1);
    expect((await lans.bridge(1).stop()).code).toBe(0);
    for (const other of [bob, cyd]) {
      await until(
        `${other.peer.id} to leave LAN A`,
        () => summaryOf(ada.peer, other.peer.id),
        (s) => s?.sources.length === 0,
      );
    }
    await until(
      "A's bridge to advertise no remote peer",
      () => lans.bridge(0).metrics(),
      (m) => m.get('p2pm_bridge_remote_peers') === 0,
    );
  }, 120_000);
});
