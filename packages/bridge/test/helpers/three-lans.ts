import { expect } from 'vitest';
import type { BridgedLans, LabPeer } from '../../src/harness/index.js';
import { exchange } from './lab-per-test.js';
import { peersOf, until } from './lan-peers.js';

/**
 * One peer on each of three bridged LANs; the two ends message each other both ways, and
 * every peer is listed exactly once, online, on every other LAN: in each peer's own list (the
 * other two and nothing else) and in each bridge's count of peers advertised each way (a
 * bridge that passed on a peer it heard of by two paths would count it twice).
 */
export async function checkThreeLans(lans: BridgedLans): Promise<LabPeer[]> {
  const names = ['ada', 'bob', 'cyd'];
  const peers: LabPeer[] = await Promise.all(names.map((name, index) => lans.startPeer(index, name)));
  const ids = peers.map((p) => p.peer.id);
  for (const [index, { peer }] of peers.entries()) {
    const others = ids.filter((id) => id !== peer.id).sort();
    await until(
      `${names[index]} to list the other two online, once each`,
      () => peersOf(peer),
      (list) =>
        list.length === 2 &&
        list.every((p) => p.status === 'online') &&
        list
          .map((p) => p.id)
          .sort()
          .join() === others.join(),
    );
  }

  const [ada, cyd] = [peers[0] as LabPeer, peers[2] as LabPeer];
  await exchange(ada, cyd, 'from A to C, through B or not', 'from C back to A');

  for (const lan of lans.lans) {
    const metrics = await lans.bridge(lan.index).metrics();
    expect(metrics.get('p2pm_bridge_local_peers'), `bridge ${lan.index}`).toBe(1);
    expect(metrics.get('p2pm_bridge_remote_peers'), `bridge ${lan.index}`).toBe(2);
    expect(metrics.get('p2pm_bridge_links_up'), `bridge ${lan.index}`).toBe(
      lans.links.filter((l) => l.dialer === lan.index || l.listener === lan.index).length,
    );
  }
  return peers;
}
