import { describe, expect, it } from 'vitest';
import type { LabPeer } from '../src/harness/index.js';
import { adaAndBob, bridgedLansPerTest } from './helpers/lab-per-test.js';
import { sendAndReceive, until } from './helpers/lan-peers.js';
import { countReceived, expectDeliveredOnceInOrder, sendSequence } from './helpers/sequence.js';

const COUNT = 30;

/** A peer, and the prefix of the numbered messages it sends. */
type Sender = LabPeer & { prefix: string };
/** A link cut with no word sent is found dead by keepalive: a ping after 10 s quiet, 5 s to answer. */
const KEEPALIVE_FINDS_MS = 30_000;

describe('the WAN cable between two bridges pulled mid-conversation and plugged back', () => {
  const bridgedLans = bridgedLansPerTest();

  it('veth down until both bridges call the link dead, then up: every message arrives once, in order, both ways', async () => {
    const lab = await bridgedLans({ lans: 2 });
    const link = lab.links[0];
    if (!link) throw new Error('two LANs have a link');
    const pair = await adaAndBob(lab);
    const ada: Sender = { ...pair.ada, prefix: 'ada to bob' };
    const bob: Sender = { ...pair.bob, prefix: 'bob to ada' };
    await sendAndReceive(ada.peer, bob.peer, 'before any cut');

    /** One end's WAN interface down, until keepalive has both bridges drop the link. */
    const cut = (index: number, iface: string) => async () => {
      await lab.lab.setLink(lab.lanOf(index).bridgeHost, iface, false);
      for (const side of [0, 1]) {
        await until(
          `bridge ${side} to find the link dead`,
          () => lab.bridge(side).metrics(),
          (m) => m.get('p2pm_bridge_links_up') === 0,
          KEEPALIVE_FINDS_MS,
          500,
        );
      }
    };
    const restore = (index: number, iface: string, from: Sender, to: Sender) => async () => {
      expect(await countReceived(to.peer, from.peer, from.prefix)).toBeLessThanOrEqual(10);
      await lab.lab.setLink(lab.lanOf(index).bridgeHost, iface, true);
    };

    // A to B, cut at the dialing bridge's end after message 10, restored after 20.
    const there = await sendSequence(ada.peer, bob.peer, ada.prefix, COUNT, {
      10: cut(link.dialer, link.dialerInterface),
      20: restore(link.dialer, link.dialerInterface, ada, bob),
    });
    await expectDeliveredOnceInOrder(ada.peer, bob.peer, there);

    // B to A, cut at the listening bridge's end this time.
    const back = await sendSequence(bob.peer, ada.peer, bob.prefix, COUNT, {
      10: cut(link.listener, link.listenerInterface),
      20: restore(link.listener, link.listenerInterface, bob, ada),
    });
    await expectDeliveredOnceInOrder(bob.peer, ada.peer, back);
  }, 240_000);
});
