import { describe, expect, it } from 'vitest';
import type { LabPeer } from '../src/harness/index.js';
import { adaAndBob, bridgedLansPerTest } from './helpers/lab-per-test.js';
import { sendAndReceive, until } from './helpers/lan-peers.js';
import { countReceived, expectDeliveredOnceInOrder, sendSequence } from './helpers/sequence.js';

const COUNT = 30;

/** A peer, and the prefix of the numbered messages it sends. */
type Sender = LabPeer & { prefix: string };

describe('a bridge killed mid-conversation and started again', () => {
  const bridgedLans = bridgedLansPerTest();

  it('kill -9 of either bridge, then a restart on its data dir: every message arrives once, in order, both ways', async () => {
    const lab = await bridgedLans({ lans: 2 });
    const pair = await adaAndBob(lab);
    const ada: Sender = { ...pair.ada, prefix: 'ada to bob' };
    const bob: Sender = { ...pair.bob, prefix: 'bob to ada' };
    await sendAndReceive(ada.peer, bob.peer, 'before any cut');

    /** kill -9 of one LAN's bridge, and the other's link seen down. */
    const killBridge = (index: number) => async () => {
      const killed = await lab.bridge(index).kill();
      expect(killed.signal).toBe('SIGKILL');
      await until(
        'the other bridge to see its link down',
        () => lab.bridge(1 - index).metrics(),
        (m) => m.get('p2pm_bridge_links_up') === 0,
      );
    };
    const restartBridge = (index: number, from: Sender, to: Sender, delivered: number) => async () => {
      // Nothing got through while the bridge was gone.
      expect(await countReceived(to.peer, from.peer, from.prefix)).toBeLessThanOrEqual(delivered);
      const restarted = await lab.startBridge(index);
      expect(restarted.id).toBe(lab.lanOf(index).bridgeId);
    };

    // A to B, the far bridge (the one that listens) killed after message 10, back after 20.
    const there = await sendSequence(ada.peer, bob.peer, ada.prefix, COUNT, {
      10: killBridge(1),
      20: restartBridge(1, ada, bob, 10),
    });
    await expectDeliveredOnceInOrder(ada.peer, bob.peer, there);

    // B to A the same way, with A's bridge (the one that dials) killed this time.
    const back = await sendSequence(bob.peer, ada.peer, bob.prefix, COUNT, {
      10: killBridge(0),
      20: restartBridge(0, bob, ada, 10),
    });
    await expectDeliveredOnceInOrder(bob.peer, ada.peer, back);
  }, 180_000);
});
