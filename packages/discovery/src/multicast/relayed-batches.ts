import { type Announcement, RelayedPeer } from '@p2p-messenger/proto';
import { MAX_DATAGRAM_BYTES, type Sign, sealAnnouncement, signedSize, varintSize } from './announcement-codec.js';

/**
 * Splits a bridge's list of relayed peers into as few datagrams as fit MAX_DATAGRAM_BYTES,
 * each signed, each with its own timestamp from `nextIssuedAt` (strictly increasing, so a
 * receiver accepts them in order and refuses any one replayed). An empty list still makes
 * one datagram. `base` gives everything but the entries and the timestamp.
 */
export function encodeRelayedBatches(
  base: Omit<Announcement, 'relayedPeers' | 'issuedAtMs'>,
  peers: readonly RelayedPeer[],
  nextIssuedAt: () => number,
  sign: Sign,
): Buffer[] {
  const batches: RelayedPeer[][] = [];
  // The timestamp's varint is at most 10 bytes: measure with the largest.
  const emptySize = signedSize({ ...base, issuedAtMs: Number.MAX_SAFE_INTEGER, relayedPeers: [] });
  let batch: RelayedPeer[] = [];
  let size = emptySize;
  for (const peer of peers) {
    const entry = entrySize(peer);
    // The announcement's own length prefix may grow by a byte as entries are added.
    if (batch.length > 0 && size + entry + 1 > MAX_DATAGRAM_BYTES) {
      batches.push(batch);
      batch = [];
      size = emptySize;
    }
    batch.push(peer);
    size += entry;
  }
  batches.push(batch);
  return batches.map((relayedPeers) => {
    const datagram = sealAnnouncement({ ...base, issuedAtMs: nextIssuedAt(), relayedPeers }, sign);
    if (datagram.length > MAX_DATAGRAM_BYTES) throw new RangeError('a relayed peer does not fit a datagram');
    return datagram;
  });
}

/** Bytes one entry adds to the announcement: tag, length, message. */
function entrySize(peer: RelayedPeer): number {
  const length = RelayedPeer.encode(peer).finish().length;
  return 1 + varintSize(length) + length;
}
