import { Announcement, AnnouncementKind, SignedAnnouncement } from '@p2p-messenger/proto';

const MAGIC = Buffer.from('P2PM', 'ascii');
export const WIRE_VERSION = 1;
export const HEADER_BYTES = MAGIC.length + 1;
const SIGNING_CONTEXT = Buffer.from('p2pm-announcement-v1', 'ascii');
/** Fits one unfragmented datagram on IPv6's minimum MTU (1280) with headers to spare. */
export const MAX_DATAGRAM_BYTES = 1200;
/** Ed25519 public keys, raw. */
const SIGNING_KEY_BYTES = 32;

/** Why a datagram was not taken: each is counted. */
export type DropReason = 'garbage' | 'unknown-version' | 'forged' | 'stale' | 'oversized';

export type Decoded =
  | { ok: true; announcement: Announcement; signed: Uint8Array; signature: Uint8Array }
  | { ok: false; reason: DropReason; detail: string };

export type Sign = (data: Uint8Array) => Uint8Array;

/** What is signed: a fixed context, so that no other signature of the key can pass as one. */
export function signingInput(encodedAnnouncement: Uint8Array): Buffer {
  return Buffer.concat([SIGNING_CONTEXT, encodedAnnouncement]);
}

/** Encodes and signs an announcement as it is; returns the datagram, whatever its size. */
export function sealAnnouncement(announcement: Announcement, sign: Sign): Buffer {
  const encoded = asBuffer(Announcement.encode(announcement).finish());
  const body = SignedAnnouncement.encode({
    announcement: encoded,
    signature: asBuffer(sign(signingInput(encoded))),
  }).finish();
  return Buffer.concat([MAGIC, Buffer.from([WIRE_VERSION]), body]);
}

/**
 * Encodes and signs an announcement, dropping known peer ids from the end until the datagram
 * fits (never the signing key); returns the datagram.
 */
export function encodeAnnouncement(announcement: Announcement, sign: Sign): Buffer {
  const draft: Announcement = { ...announcement, knownPeerIds: [...announcement.knownPeerIds] };
  // Measured unsigned first (a signature is always 64 bytes): one signature per datagram.
  while (draft.knownPeerIds.length > 0 && signedSize(draft) > MAX_DATAGRAM_BYTES) {
    draft.knownPeerIds.length = Math.max(0, draft.knownPeerIds.length - 4);
  }
  const datagram = sealAnnouncement(draft, sign);
  if (datagram.length > MAX_DATAGRAM_BYTES) throw new RangeError('announcement too large');
  return datagram;
}

/** The datagram's size once signed, computed without signing. */
export function signedSize(announcement: Announcement): number {
  const encoded = Announcement.encode(announcement).finish().length;
  // SignedAnnouncement: field 1 (tag, length, bytes) and field 2 (tag, length 64, signature).
  return HEADER_BYTES + 1 + varintSize(encoded) + encoded + 2 + 64;
}

export function varintSize(value: number): number {
  let size = 1;
  for (let rest = value >>> 7; rest > 0; rest >>>= 7) size++;
  return size;
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

const KINDS: ReadonlySet<AnnouncementKind> = new Set([
  AnnouncementKind.KIND_HELLO,
  AnnouncementKind.KIND_GOODBYE,
  AnnouncementKind.KIND_RELAYED,
  AnnouncementKind.KIND_WITHDRAWN,
]);

/** What makes a whole datagram garbage; a bad entry of relayed_peers is dropped alone, later. */
function invalidField(a: Announcement): string | null {
  if (!KINDS.has(a.kind)) return `kind ${a.kind}`;
  if (!isAnnouncedId(a.peerId)) return 'malformed peer id';
  if (!validPort(a.greetingPort) || !validPort(a.securePort)) return 'port out of range';
  if (a.issuedAtMs <= 0) return 'no timestamp';
  if (a.signingKey.length !== 0 && a.signingKey.length !== SIGNING_KEY_BYTES) return 'signing key of the wrong size';
  return null;
}

/** The shape of an id in announcements (the peer's own check of the key is stricter). */
export function isAnnouncedId(id: string): boolean {
  return /^[a-z2-7]{16,64}$/.test(id);
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
