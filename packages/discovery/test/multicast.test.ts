import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  base32Decode,
  base32Encode,
  MAX_DATAGRAM_BYTES,
  MULTICAST_DEFAULTS,
  type MulticastStats,
} from '../src/index.js';
import { directoryCompliance } from './helpers/compliance.js';
import { FAST, MulticastNetwork } from './helpers/multicast-network.js';

directoryCompliance('MulticastDirectory', () => ({
  create: () => MulticastNetwork.create(),
  losesStoppedPeers: true,
  findWithinMs: 2_000,
  leaveWithinMs: 1_000,
}));

const PORTS = { greetingPort: 7400, securePort: 7401 };
/** An id of the harness's kind (the key itself), for a key nobody holds. */
const testId = () => base32Encode(randomBytes(32));
const V4 = { family: 'ipv4' as const, group: MULTICAST_DEFAULTS.ipv4Group, port: MULTICAST_DEFAULTS.port };

describe('MulticastDirectory on LANs made of network namespaces', () => {
  let network: MulticastNetwork;
  beforeEach(async () => {
    network = await MulticastNetwork.create();
  });
  afterEach(async () => {
    await network.close();
  });

  it('does not see peers of another LAN', async () => {
    const other = await network.lab.addLan();
    const ada = await network.join('ada', PORTS);
    const bob = await network.join('bob', PORTS);
    const far = await network.join('far', PORTS, { lan: other });
    await ada.waitFor((e) => e.event === 'found' && e.peer.id === bob.id);
    await new Promise((resolve) => setTimeout(resolve, 4 * FAST.intervalMs));
    expect((await ada.peers()).map((p) => p.id)).toEqual([bob.id]);
    expect(await far.peers()).toEqual([]);
  });

  it('expires a peer that was killed (no goodbye) after the expiry time', async () => {
    const ada = await network.join('ada', PORTS);
    const bob = await network.join('bob', PORTS);
    await ada.waitFor((e) => e.event === 'found' && e.peer.id === bob.id);
    const killedAt = Date.now();
    await bob.worker.kill();
    const lost = await ada.waitFor((e) => e.event === 'lost' && e.peer.id === bob.id, 5_000);
    expect(lost.reason).toBe('expired');
    // Not before the expiry (it was heard at most one interval before the kill) nor long after.
    expect(lost.atMs - killedAt).toBeGreaterThanOrEqual(FAST.expiryMs - FAST.intervalMs * 1.1);
    expect(lost.atMs - killedAt).toBeLessThan(FAST.expiryMs + 3 * FAST.intervalMs);
  });

  it('learns its own address from its own announcements', async () => {
    const ada = await network.join('ada', PORTS);
    const host = network.lab.hosts.at(-1);
    await expect.poll(() => ada.worker.request<string[]>({ op: 'selfAddresses' })).toContain(host?.ipv4);
  });

  it('drops an announcement forged for another peer’s id', async () => {
    const ada = await network.join('ada', PORTS);
    const bob = await network.join('bob', PORTS);
    const eve = await network.join('eve', { greetingPort: 9999, securePort: 9998 });
    await ada.waitFor((e) => e.event === 'found' && e.peer.id === bob.id);
    await eve.worker.request({ op: 'forge', claimedId: bob.id, ...V4 });
    await expect
      .poll(async () => (await ada.worker.request<MulticastStats>({ op: 'stats' })).dropped.forged)
      .toBeGreaterThanOrEqual(1);
    const bobAsSeen = (await ada.peers()).find((p) => p.id === bob.id);
    expect(bobAsSeen?.name).toBe('bob');
    expect(bobAsSeen?.greetingPort).toBe(PORTS.greetingPort);
    expect(ada.events.some((e) => e.peer.name === 'impostor')).toBe(false);
  });

  it('drops an announcement whose carried key is not the id’s, or is but did not sign it', async () => {
    const ada = await network.join('ada', PORTS);
    const bob = await network.join('bob', PORTS);
    const eve = await network.join('eve', { greetingPort: 9999, securePort: 9998 });
    await ada.waitFor((e) => e.event === 'found' && e.peer.id === bob.id);
    const forgedSoFar = async () => (await ada.worker.request<MulticastStats>({ op: 'stats' })).dropped.forged;
    const bobsKey = { base64: base32Decode(bob.id).toString('base64') };
    for (const [claimedId, carriedKey] of [
      [bob.id, 'own'],
      [bob.id, bobsKey],
      [testId(), 'own'],
    ] as const) {
      const before = await forgedSoFar();
      await eve.worker.request({ op: 'forge', claimedId, carriedKey, ...V4 });
      await expect.poll(forgedSoFar).toBe(before + 1);
    }
    expect((await ada.worker.request<MulticastStats>({ op: 'stats' })).dropped.unverified).toBe(0);
    const bobAsSeen = (await ada.peers()).find((p) => p.id === bob.id);
    expect(bobAsSeen).toMatchObject({ name: 'bob', ...PORTS });
    expect(ada.events.some((e) => e.peer.name === 'impostor')).toBe(false);
  });

  it('counts garbage datagrams and goes on working', async () => {
    const ada = await network.join('ada', PORTS);
    const bob = await network.join('bob', PORTS);
    await ada.waitFor((e) => e.event === 'found' && e.peer.id === bob.id);
    const junk = [
      randomBytes(64),
      Buffer.from('P2PM\x09later version'),
      Buffer.concat([Buffer.from('P2PM\x01'), randomBytes(100)]),
      Buffer.from('P2PM'),
      Buffer.alloc(0),
      Buffer.concat([Buffer.from('P2PM\x01'), Buffer.alloc(MAX_DATAGRAM_BYTES, 1)]),
    ];
    for (const bytes of junk) await bob.worker.request({ op: 'sendRaw', bytesBase64: bytes.toString('base64'), ...V4 });
    await expect
      .poll(async () => {
        const { dropped } = await ada.worker.request<MulticastStats>({ op: 'stats' });
        return dropped.garbage + dropped['unknown-version'] + dropped.oversized;
      })
      .toBeGreaterThanOrEqual(junk.length);
    const stats = await ada.worker.request<MulticastStats>({ op: 'stats' });
    expect(stats.dropped['unknown-version']).toBeGreaterThanOrEqual(1);
    expect(stats.dropped.oversized).toBeGreaterThanOrEqual(1);
    // Still alive and still discovering.
    const cyd = await network.join('cyd', PORTS);
    await ada.waitFor((e) => e.event === 'found' && e.peer.id === cyd.id);
  });

  it('works over IPv6 alone', async () => {
    const only6 = { families: ['ipv6' as const] };
    const ada = await network.join('ada', PORTS, only6);
    const bob = await network.join('bob', PORTS, only6);
    const found = await ada.waitFor((e) => e.event === 'found' && e.peer.id === bob.id);
    expect(found.peer.addresses.every((a) => a.includes(':'))).toBe(true);
    await bob.stop();
    await ada.waitFor((e) => e.event === 'lost' && e.peer.id === bob.id && e.reason === 'goodbye', 1_000);
  });
});
