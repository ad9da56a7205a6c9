import { createHash } from 'node:crypto';
import { base32Encode } from '@p2p-messenger/discovery';

/** 20 bytes of SHA-256 -> 32 base32 characters: short enough for a DNS label (<= 63). */
const ID_HASH_BYTES = 20;
const PEER_ID_PATTERN = /^[a-z2-7]{32}$/;

/** The peer id is derived from the Ed25519 public key, so anyone can check a key against an id. */
export function peerIdFromSigningKey(signingKeyRaw: Uint8Array): string {
  const digest = createHash('sha256').update('p2pm-peer-id-v1').update(signingKeyRaw).digest();
  return base32Encode(digest.subarray(0, ID_HASH_BYTES));
}

export function isPeerId(value: string): boolean {
  return PEER_ID_PATTERN.test(value);
}

/**
 * A human fingerprint: six groups of five digits from the key hash, for two people to read
 * to each other and compare.
 */
export function fingerprintOf(signingKeyRaw: Uint8Array): string {
  const digest = createHash('sha256').update('p2pm-fingerprint-v1').update(signingKeyRaw).digest();
  const groups: string[] = [];
  for (let i = 0; i < 6; i++) {
    const chunk = digest.readUIntBE(i * 5, 5);
    groups.push(String(chunk % 100_000).padStart(5, '0'));
  }
  return groups.join(' ');
}
