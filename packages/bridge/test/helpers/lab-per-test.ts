import { afterEach, expect } from 'vitest';
import { BridgedLans, type BridgedLansInit, type LabPeer } from '../../src/harness/index.js';
import { historyOf, sendAndReceive, until, untilOnline } from './lan-peers.js';

/**
 * For a describe block: a function that builds bridged LANs for the running test, every one
 * destroyed after it (processes, namespaces, data dirs), passed or failed.
 */
export function bridgedLansPerTest(): (init: BridgedLansInit) => Promise<BridgedLans> {
  const made: BridgedLans[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((lans) => lans.destroy()));
  });
  return async (init) => {
    const lans = await BridgedLans.create(init);
    made.push(lans);
    return lans;
  };
}

/** ada on the first LAN and bob on the second, each listing the other online. */
export async function adaAndBob(lans: BridgedLans): Promise<{ ada: LabPeer; bob: LabPeer }> {
  const [ada, bob] = await Promise.all([lans.startPeer(0, 'ada'), lans.startPeer(1, 'bob')]);
  await untilOnline(ada.peer, bob.peer);
  await untilOnline(bob.peer, ada.peer);
  return { ada, bob };
}

/** One message each way; then both sides hold exactly those two, in that order (ids and texts). */
export async function exchange(one: LabPeer, other: LabPeer, there: string, back: string): Promise<void> {
  const sent = [await sendAndReceive(one.peer, other.peer, there), await sendAndReceive(other.peer, one.peer, back)];
  for (const [peer, partner] of [
    [one.peer, other.peer],
    [other.peer, one.peer],
  ] as const) {
    const history = await until(
      'both messages at both ends',
      () => historyOf(peer, partner),
      (h) => h.length === 2,
    );
    expect(history.map((m) => [m.id, m.text])).toEqual(sent.map((m) => [m.id, m.text]));
  }
}
