import { Announcement, AnnouncementKind, SignedAnnouncement } from '@p2p-messenger/proto';

const MAGIC = Buffer.from('P2PM', 'ascii');
export const WIRE_VERSION = 1;
const HEADER_BYTES = MAGIC.length + 1;
const SIGNING_CONTEXT = Buffer.from('p2pm-announcement-v1', 'ascii');
/** Fits one unfragmented datagram on IPv6's minimum MTU (1280) with headers to spare. */
export const MAX_DATAGRAM_BYTES = 1200;

/** Why a datagram was not taken: each is counted. */
export type DropReason = 'garbage' | 'unknown-version' | 'forged' | 'stale' | 'oversized';

export type Decoded =
  | { ok: true; announcement: Announcement; signed: Uint8Array; signature: Uint8Array }
  | { ok: false; reason: DropReason; detail: string };

/** What is signed: a fixed context, so that no other signature of the key can pass as one. */
export function signingInput(encodedAnnouncement: Uint8Array): Buffer {
  return Buffer.concat([SIGNING_CONTEXT, encodedAnnouncement]);
}

/**
 * Encodes and signs an announcement, dropping known peer ids from the end until the datagram
 * fits; returns the datagram.
 */
export function encodeAnnouncement(announcement: Announcement, sign: (data: Uint8Array) => Uint8Array): Buffer {
  const draft: Announcement = { ...announcement, knownPeerIds: [...announcement.knownPeerIds] };
  for (;;) {
    const encoded = asBuffer(Announcement.encode(draft).finish());
    const body = SignedAnnouncement.encode({
      announcement: encoded,
      signature: asBuffer(sign(signingInput(encoded))),
    }).finish();
    if (HEADER_BYTES + body.length <= MAX_DATAGRAM_BYTES || draft.knownPeerIds.length === 0) {
      if (HEADER_BYTES + body.length > MAX_DATAGRAM_BYTES) throw new RangeError('announcement too large');
      return Buffer.concat([MAGIC, Buffer.from([WIRE_VERSION]), body]);
    }
    // Drop several at a time: each round costs a signature.
    draft.knownPeerIds.length = Math.max(0, draft.knownPeerIds.length - 4);
  }
}

/** Parses a datagram without trusting it: the signature is checked by the caller. */
export function decodeAnnouncement(datagram: Buffer): Decoded {
  if (datagram.length > MAX_DATAGRAM_BYTES) return drop('oversized', `${datagram.length} bytes`);
  if (datagram.length < HEADER_BYTES || !datagram.subarray(0, MAGIC.length).equals(MAGIC)) {
    return drop('garbage', 'no announcement header');
  }
  const version = datagram[MAGIC.length];
  if (version !== WIRE_VERSION) return drop('unknown-version', `wire version ${version}`);
  try {
    const signed = SignedAnnouncement.decode(datagram.subarray(HEADER_BYTES));
    const announcement = Announcement.decode(signed.announcement);
    const problem = invalidField(announcement);
    if (problem) return drop('garbage', problem);
    return { ok: true, announcement, signed: signed.announcement, signature: signed.signature };
  } catch (err) {
    return drop('garbage', (err as Error).message);
  }
}

function invalidField(a: Announcement): string | null {
  if (a.kind !== AnnouncementKind.KIND_HELLO && a.kind !== AnnouncementKind.KIND_GOODBYE) return `kind ${a.kind}`;
  if (!/^[a-z2-7]{16,64}$/.test(a.peerId)) return 'malformed peer id';
  if (!validPort(a.greetingPort) || !validPort(a.securePort)) return 'port out of range';
  if (a.issuedAtMs <= 0) return 'no timestamp';
  return null;
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port > 0 && port < 65536;
}

function drop(reason: DropReason, detail: string): Decoded {
  return { ok: false, reason, detail };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
