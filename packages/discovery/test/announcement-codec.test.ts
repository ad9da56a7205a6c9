import { KeyInIdSigner } from '@p2p-messenger/discovery/lab';
import { type Announcement, AnnouncementKind, type RelayedPeer } from '@p2p-messenger/proto';
import { describe, expect, it } from 'vitest';
import { decodeAnnouncement, encodeAnnouncement, MAX_DATAGRAM_BYTES } from '../src/index.js';
import { signingInput } from '../src/multicast/announcement-codec.js';
import { encodeRelayedBatches } from '../src/multicast/relayed-batches.js';
import { testPeerId } from './helpers/consul-network.js';

const signer = new KeyInIdSigner();
const hello = (overrides: Partial<Announcement> = {}): Announcement => ({
  kind: AnnouncementKind.KIND_HELLO,
  peerId: signer.id,
  name: 'ada',
  greetingPort: 7400,
  securePort: 7401,
  protocolVersion: 1,
  issuedAtMs: Date.now(),
  knownPeerIds: [],
  wantsReply: false,
  signingKey: signer.signingKey,
  relayedPeers: [],
  ...overrides,
});
const sign = (data: Uint8Array) => signer.sign(data);

describe('announcement datagrams', () => {
  it('round-trip, signed over a fixed context and the exact encoded bytes', async () => {
    const datagram = encodeAnnouncement(hello({ knownPeerIds: [testPeerId()] }), sign);
    const decoded = decodeAnnouncement(datagram);
    if (!decoded.ok) throw new Error(decoded.detail);
    expect(decoded.announcement).toMatchObject({ name: 'ada', greetingPort: 7400, securePort: 7401 });
    expect(await signer.verify(signer.id, signingInput(decoded.signed), decoded.signature)).toBe(true);
    // The bare bytes (without the context) do not verify: the signature cannot be reused elsewhere.
    expect(await signer.verify(signer.id, decoded.signed, decoded.signature)).toBe(false);
  });

  it('fit one datagram: known peers are cut to fit, never the public key', () => {
    const many = Array.from({ length: 200 }, testPeerId);
    const datagram = encodeAnnouncement(hello({ knownPeerIds: many }), sign);
    expect(datagram.length).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
    // Cut no more than needed: four more ids would not have fitted.
    expect(datagram.length).toBeGreaterThan(MAX_DATAGRAM_BYTES - 4 * 34);
    const decoded = decodeAnnouncement(datagram);
    if (!decoded.ok) throw new Error(decoded.detail);
    expect(decoded.announcement.signingKey).toEqual(signer.signingKey);
    expect(decoded.announcement.knownPeerIds.length).toBeGreaterThan(10);
    expect(decoded.announcement.knownPeerIds).toEqual(many.slice(0, decoded.announcement.knownPeerIds.length));
  });

  it('carry a bridge’s relayed list in as many datagrams as it needs, each newer than the last', () => {
    const relayed: RelayedPeer[] = Array.from({ length: 300 }, (_, i) => ({
      id: testPeerId(),
      name: `peer ${i} ${'é'.repeat(i % 40)}`,
      hops: 1 + (i % 5),
    }));
    let clock = 1_000;
    const { relayedPeers: _r, issuedAtMs: _i, ...base } = hello({ kind: AnnouncementKind.KIND_RELAYED });
    const datagrams = encodeRelayedBatches(base, relayed, () => clock++, sign);
    expect(datagrams.length).toBeGreaterThan(5);
    const decoded = datagrams.map((datagram) => {
      expect(datagram.length).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
      const result = decodeAnnouncement(datagram);
      if (!result.ok) throw new Error(result.detail);
      return result.announcement;
    });
    expect(decoded.flatMap((a) => a.relayedPeers)).toEqual(relayed);
    expect(decoded.map((a) => a.issuedAtMs)).toEqual(datagrams.map((_, i) => 1_000 + i));
    // Packed: no two neighbours would have fitted in one.
    for (let i = 1; i < decoded.length; i++) {
      const merged = [...(decoded[i - 1]?.relayedPeers ?? []), ...(decoded[i]?.relayedPeers ?? [])];
      expect(encodeRelayedBatches(base, merged, () => clock++, sign).length).toBe(2);
    }
    expect(encodeRelayedBatches(base, [], () => clock++, sign)).toHaveLength(1);
  });

  it('tell garbage, other versions, bad fields and oversized datagrams apart', () => {
    const good = encodeAnnouncement(hello(), sign);
    const otherVersion = Buffer.from(good);
    otherVersion[4] = 2;
    expect(decodeAnnouncement(Buffer.from('hello')).ok).toBe(false);
    expect(decodeAnnouncement(otherVersion)).toMatchObject({ ok: false, reason: 'unknown-version' });
    expect(decodeAnnouncement(Buffer.concat([good.subarray(0, 5), Buffer.from([0xff, 0xff, 0xff])]))).toMatchObject({
      ok: false,
      reason: 'garbage',
    });
    expect(decodeAnnouncement(Buffer.alloc(MAX_DATAGRAM_BYTES + 1))).toMatchObject({ ok: false, reason: 'oversized' });
    expect(decodeAnnouncement(encodeAnnouncement(hello({ greetingPort: 0 }), sign))).toMatchObject({
      ok: false,
      reason: 'garbage',
    });
    expect(decodeAnnouncement(encodeAnnouncement(hello({ peerId: 'NOT AN ID' }), sign))).toMatchObject({
      ok: false,
      reason: 'garbage',
    });
    expect(decodeAnnouncement(encodeAnnouncement(hello({ kind: 7 as AnnouncementKind }), sign))).toMatchObject({
      ok: false,
      reason: 'garbage',
    });
    const shortKey = hello({ signingKey: signer.signingKey.subarray(0, 31) });
    expect(decodeAnnouncement(encodeAnnouncement(shortKey, sign))).toMatchObject({ ok: false, reason: 'garbage' });
  });
});
