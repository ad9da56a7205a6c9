import type { SeenEvent } from '@p2p-messenger/discovery/lab';
import { AnnouncementKind, type RelayedPeer } from '@p2p-messenger/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  base32Decode,
  type DirectoryPeer,
  decodeAnnouncement,
  MAX_DATAGRAM_BYTES,
  MULTICAST_DEFAULTS,
  type MulticastStats,
} from '../src/index.js';
import { testPeerId } from './helpers/consul-network.js';
import { FAST, MulticastNetwork } from './helpers/multicast-network.js';

const PEER_PORTS = { greetingPort: 7400, securePort: 7401 };
const BRIDGE_PORTS = { greetingPort: 7600, securePort: 7601 };
const V4 = { family: 'ipv4' as const, group: MULTICAST_DEFAULTS.ipv4Group, port: MULTICAST_DEFAULTS.port };

const remote = (name: string, hops = 1): RelayedPeer => ({ id: testPeerId(), name, hops });
const found = (id: string) => (e: SeenEvent) => e.event === 'found' && e.peer.id === id;
const lost = (id: string) => (e: SeenEvent) => e.event === 'lost' && e.peer.id === id;
const statsOf = (d: { worker: { request<T>(r: { op: 'stats' }): Promise<T> } }) =>
  d.worker.request<MulticastStats>({ op: 'stats' });

describe('bridges re-advertising remote peers by multicast', () => {
  let network: MulticastNetwork;
  beforeEach(async () => {
    network = await MulticastNetwork.create();
  });
  afterEach(async () => {
    await network.close();
  });

  const joinBridge = (name = 'bridge', timing?: { intervalMs: number; expiryMs: number }) =>
    network.join(name, BRIDGE_PORTS, { relay: true, ...(timing ? { timing } : {}) });

  it('lists relayed peers with a route through the bridge, which is no peer itself and still lists the LAN', async () => {
    const bridge = await joinBridge();
    const ada = await network.join('ada', PEER_PORTS);
    const [far, farther] = [remote('far'), remote('farther', 2)];
    await bridge.worker.request({ op: 'setRelayed', peers: [far, farther] });

    const farSeen = (await ada.waitFor(found(far.id))).peer;
    expect(farSeen).toMatchObject({ name: 'far', addresses: [], sources: ['multicast'] });
    expect(farSeen.relays).toEqual([{ bridgeId: bridge.id, host: bridge.host.ipv4, ...BRIDGE_PORTS, hops: 1 }]);
    const fartherSeen = (await ada.waitFor(found(farther.id))).peer;
    expect(fartherSeen.relays).toEqual([{ bridgeId: bridge.id, host: bridge.host.ipv4, ...BRIDGE_PORTS, hops: 2 }]);

    await bridge.waitFor(found(ada.id));
    expect((await bridge.peers()).map((p) => p.id)).toEqual([ada.id]);
    expect((await ada.peers()).map((p) => p.id).sort()).toEqual([far.id, farther.id].sort());
    expect(ada.events.some((e) => e.peer.id === bridge.id)).toBe(false);
  });

  it('withdraws a peer that left the list at once, and everything when the bridge stops', async () => {
    const bridge = await joinBridge();
    const ada = await network.join('ada', PEER_PORTS);
    const [far, gone] = [remote('far'), remote('gone')];
    await bridge.worker.request({ op: 'setRelayed', peers: [far, gone] });
    await ada.waitFor(found(gone.id));

    const changedAt = Date.now();
    await bridge.worker.request({ op: 'setRelayed', peers: [far] });
    const goneLost = await ada.waitFor(lost(gone.id));
    expect(goneLost.reason).toBe('removed');
    // Withdrawn, not expired.
    expect(goneLost.atMs - changedAt).toBeLessThan(FAST.expiryMs);
    expect((await ada.peers()).map((p) => p.id)).toEqual([far.id]);

    const stoppedAt = Date.now();
    await bridge.stop();
    const farLost = await ada.waitFor(lost(far.id));
    expect(farLost.atMs - stoppedAt).toBeLessThan(FAST.expiryMs);
  });

  it('expires the routes of a bridge that fell silent', async () => {
    const bridge = await joinBridge();
    const ada = await network.join('ada', PEER_PORTS);
    const far = remote('far');
    await bridge.worker.request({ op: 'setRelayed', peers: [far] });
    await ada.waitFor(found(far.id));
    const killedAt = Date.now();
    await bridge.worker.kill();
    const farLost = await ada.waitFor(lost(far.id), 5_000);
    expect(farLost.reason).toBe('expired');
    expect(farLost.atMs - killedAt).toBeGreaterThanOrEqual(FAST.expiryMs - FAST.intervalMs * 1.1);
  });

  it('keeps a peer heard directly as it is, the route extra; it is lost only when neither is left', async () => {
    const bridge = await joinBridge();
    const ada = await network.join('ada', PEER_PORTS);
    const bob = await network.join('bob', PEER_PORTS);
    await ada.waitFor(found(bob.id));
    // A bridge that (also) reaches bob from elsewhere.
    await bridge.worker.request({ op: 'setRelayed', peers: [{ id: bob.id, name: 'bob elsewhere', hops: 3 }] });
    const withRoute = (e: SeenEvent) => e.peer.id === bob.id && (e.peer.relays?.length ?? 0) > 0;
    const both = (await ada.waitFor(withRoute)).peer;
    expect(both).toMatchObject({ name: 'bob', ...PEER_PORTS });
    expect(both.addresses).toContain(bob.host.ipv4);
    expect(both.relays).toEqual([{ bridgeId: bridge.id, host: bridge.host.ipv4, ...BRIDGE_PORTS, hops: 3 }]);

    // bob leaves its LAN: still reachable through the bridge.
    const stoppedAt = Date.now();
    await bob.stop();
    const onlyRoute = (
      await ada.waitFor((e) => e.atMs >= stoppedAt && e.peer.id === bob.id && e.peer.addresses.length === 0)
    ).peer;
    expect(onlyRoute.name).toBe('bob elsewhere');
    expect(onlyRoute.relays?.map((r) => r.bridgeId)).toEqual([bridge.id]);
    expect(ada.events.some((e) => e.atMs >= stoppedAt && lost(bob.id)(e))).toBe(false);

    await bridge.worker.request({ op: 'setRelayed', peers: [] });
    await ada.waitFor(lost(bob.id));
  });

  it('drops relayed announcements forged for a bridge’s id, and replayed ones', async () => {
    const bridge = await joinBridge();
    const ada = await network.join('ada', PEER_PORTS);
    const eve = await network.join('eve', { greetingPort: 9999, securePort: 9998 });
    await eve.worker.request({ op: 'record', ...V4 });
    const far = remote('far');
    await bridge.worker.request({ op: 'setRelayed', peers: [far] });
    await ada.waitFor(found(far.id));

    // eve announces remote peers in the bridge's name: with her key, and with the bridge's key.
    const planted = remote('planted');
    const bridgeKey = base32Decode(bridge.id).toString('base64');
    for (const carriedKey of ['own' as const, { base64: bridgeKey }, 'none' as const]) {
      await eve.worker.request({ op: 'forge', claimedId: bridge.id, carriedKey, relayedPeers: [planted], ...V4 });
    }
    await expect.poll(async () => (await statsOf(ada)).dropped.forged).toBeGreaterThanOrEqual(3);

    // The bridge stops relaying far; eve replays the datagram that relayed it.
    await bridge.worker.request({ op: 'setRelayed', peers: [] });
    await ada.waitFor(lost(far.id));
    const recorded = await eve.worker.request<string[]>({ op: 'recorded' });
    const relayingFar = recorded
      .map((base64) => Buffer.from(base64, 'base64'))
      .find((datagram) => {
        const decoded = decodeAnnouncement(datagram);
        return decoded.ok && decoded.announcement.relayedPeers.some((p) => p.id === far.id);
      });
    if (!relayingFar) throw new Error('eve heard no datagram relaying far');
    const staleBefore = (await statsOf(ada)).dropped.stale;
    await eve.worker.request({ op: 'sendRaw', bytesBase64: relayingFar.toString('base64'), ...V4 });
    await expect.poll(async () => (await statsOf(ada)).dropped.stale).toBeGreaterThan(staleBefore);

    await new Promise((resolve) => setTimeout(resolve, 2 * FAST.intervalMs));
    const ids = (await ada.peers()).map((p) => p.id);
    expect(ids).not.toContain(far.id);
    expect(ids).not.toContain(planted.id);
    expect(ada.events.some((e) => e.peer.name === 'impostor' || e.peer.id === planted.id)).toBe(false);
  });

  it('ignores and counts entries naming the bridge, the listener, or malformed ones', async () => {
    const ada = await network.join('ada', PEER_PORTS);
    // eve is a bridge of her own making: her relayed list is genuinely hers.
    const eve = await network.join('eve', { greetingPort: 9999, securePort: 9998 });
    const good = remote('good');
    const entries: RelayedPeer[] = [
      { id: eve.id, name: 'eve herself', hops: 1 },
      { id: ada.id, name: 'ada herself', hops: 1 },
      { id: 'NOT AN ID', name: 'bad id', hops: 1 },
      { id: testPeerId(), name: 'no hops', hops: 0 },
      { id: testPeerId(), name: 'x'.repeat(65), hops: 1 },
      good,
    ];
    await eve.worker.request({ op: 'forge', claimedId: eve.id, carriedKey: 'own', relayedPeers: entries, ...V4 });
    const goodSeen = (await ada.waitFor(found(good.id))).peer;
    expect(goodSeen.relays?.map((r) => r.bridgeId)).toEqual([eve.id]);
    expect((await statsOf(ada)).ignoredRelayedEntries).toEqual({ 'bridge-itself': 1, own: 1, malformed: 3 });
    expect(ada.events.filter((e) => e.event === 'found').map((e) => e.peer.name)).not.toContain('eve herself');
  });

  it('sends 300 relayed peers in several datagrams, all of which arrive', async () => {
    const bridge = await joinBridge();
    const ada = await network.join('ada', PEER_PORTS);
    const eve = await network.join('eve', { greetingPort: 9999, securePort: 9998 });
    await eve.worker.request({ op: 'record', ...V4 });
    const many = Array.from({ length: 300 }, (_, i) => remote(`remote peer number ${i}`, 1 + (i % 3)));
    await bridge.worker.request({ op: 'setRelayed', peers: many });

    await expect
      .poll(async () => (await ada.peers()).filter((p) => p.relays?.[0]?.bridgeId === bridge.id).length, {
        timeout: 5_000,
      })
      .toBe(300);
    const seen = new Map((await ada.peers()).map((p): [string, DirectoryPeer] => [p.id, p]));
    for (const peer of many) {
      expect(seen.get(peer.id)).toMatchObject({
        name: peer.name,
        relays: [expect.objectContaining({ hops: peer.hops })],
      });
    }

    const fromBridge = (await eve.worker.request<string[]>({ op: 'recorded' }))
      .map((base64) => Buffer.from(base64, 'base64'))
      .flatMap((datagram) => {
        const decoded = decodeAnnouncement(datagram);
        return decoded.ok && decoded.announcement.peerId === bridge.id ? [{ datagram, ...decoded }] : [];
      });
    const relayed = fromBridge.filter((d) => d.announcement.kind === AnnouncementKind.KIND_RELAYED);
    expect(relayed.every((d) => d.datagram.length <= MAX_DATAGRAM_BYTES)).toBe(true);
    // One round: the datagrams between two that carry the first of the list.
    const firstOfRound = relayed.findIndex((d) => d.announcement.relayedPeers[0]?.id === many[0]?.id);
    const round = relayed.slice(firstOfRound);
    const roundEnd = round.findIndex((d, i) => i > 0 && d.announcement.relayedPeers[0]?.id === many[0]?.id);
    const oneRound = roundEnd > 0 ? round.slice(0, roundEnd) : round;
    expect(oneRound.length).toBeGreaterThan(1);
    expect(new Set(oneRound.flatMap((d) => d.announcement.relayedPeers.map((p) => p.id))).size).toBe(300);
    const stamps = fromBridge.map((d) => d.announcement.issuedAtMs);
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
    expect(new Set(stamps).size).toBe(stamps.length);
  });

  it('answers a newcomer’s question with its whole list, long before its next interval', async () => {
    const slow = { intervalMs: 20_000, expiryMs: 70_000 };
    const bridge = await joinBridge('bridge', slow);
    const far = remote('far');
    await bridge.worker.request({ op: 'setRelayed', peers: [far] });
    // Let the bridge's own announcements pass before the newcomer comes.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const joinedAt = Date.now();
    const ada = await network.join('ada', PEER_PORTS);
    const farSeen = await ada.waitFor(found(far.id), 5_000);
    expect(farSeen.atMs - joinedAt).toBeLessThan(slow.intervalMs / 4);
  });

  it('a bridge lists only its LAN’s own peers, not another bridge’s relayed ones', async () => {
    const one = await joinBridge('one');
    const two = await joinBridge('two');
    const ada = await network.join('ada', PEER_PORTS);
    const far = remote('far');
    await one.worker.request({ op: 'setRelayed', peers: [far] });
    await ada.waitFor(found(far.id));
    await two.waitFor(found(ada.id));
    await expect.poll(async () => (await statsOf(two)).dropped['relayed-to-bridge']).toBeGreaterThan(0);
    expect((await two.peers()).map((p) => p.id)).toEqual([ada.id]);
    expect((await one.peers()).map((p) => p.id)).toEqual([ada.id]);
  });
});
