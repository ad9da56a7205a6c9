import { createHash, sign, verify } from 'node:crypto';
import type { PeerIdentity } from '@p2p-messenger/proto';
import { IdentityMismatchError } from '../errors.js';
import { signingKeyOfCertificate } from './certificate.js';
import { ed25519PublicKeyFromRaw } from './keys.js';
import type { LocalIdentity } from './local-identity.js';
import { isPeerId, peerIdFromSigningKey } from './peer-id.js';

const RAW_KEY_BYTES = 32;
/** Limits every peer enforces on identity records (and so on its own name and addresses). */
export const MAX_NAME_LENGTH = 64;
export const MAX_ADDRESSES = 16;

export interface IdentityRecordInit {
  name: string;
  addresses: string[];
  greetingPort: number;
  securePort: number;
  protocolVersion: number;
  issuedAtMs?: number;
}

/** Builds this peer's signed identity record, as sent in greetings. */
export function signIdentityRecord(identity: LocalIdentity, init: IdentityRecordInit): PeerIdentity {
  const record: PeerIdentity = {
    id: identity.id,
    name: init.name,
    signingKey: identity.signingKeyRaw,
    sealingKey: identity.sealingKeyRaw,
    certificate: identity.certificateDer,
    addresses: init.addresses,
    greetingPort: init.greetingPort,
    securePort: init.securePort,
    protocolVersion: init.protocolVersion,
    issuedAtMs: init.issuedAtMs ?? Date.now(),
    signature: Buffer.alloc(0),
  };
  record.signature = sign(null, canonicalBytes(record), identity.signingKey);
  return record;
}

/**
 * Checks a record received from anywhere: the signing key hashes to the id (and to the id
 * the caller expected, if any), the certificate carries that key, and the record is signed
 * by it. Throws IdentityMismatchError otherwise.
 */
export function verifyIdentityRecord(record: PeerIdentity | undefined, expectedId?: string): PeerIdentity {
  if (!record) throw new IdentityMismatchError('no identity record');
  if (!isPeerId(record.id)) throw new IdentityMismatchError(`malformed peer id ${JSON.stringify(record.id)}`);
  if (expectedId !== undefined && record.id !== expectedId) {
    throw new IdentityMismatchError(`expected peer ${expectedId}, got ${record.id}`);
  }
  if (record.name.length > MAX_NAME_LENGTH || record.addresses.length > MAX_ADDRESSES) {
    throw new IdentityMismatchError(`peer ${record.id} sent an oversized identity record`);
  }
  if (record.signingKey.length !== RAW_KEY_BYTES || record.sealingKey.length !== RAW_KEY_BYTES) {
    throw new IdentityMismatchError(`peer ${record.id} sent keys of the wrong size`);
  }
  const canonical = canonicalBytes(record);
  // The same record comes back in every greeting and every announcement check: its checks
  // (a certificate parse and two signatures, about 0.4 ms) run once per distinct record.
  const digest = createHash('sha256')
    .update(canonical)
    .update(record.signingKey)
    .update(record.certificate)
    .update(record.signature)
    .digest('base64');
  if (verifiedRecords.has(digest)) return record;
  if (peerIdFromSigningKey(record.signingKey) !== record.id) {
    throw new IdentityMismatchError(`peer ${record.id} presented a key that does not belong to that id`);
  }
  const certKey = signingKeyOfCertificate(record.certificate);
  if (!certKey?.equals(record.signingKey)) {
    throw new IdentityMismatchError(`peer ${record.id} presented a certificate for another key`);
  }
  const publicKey = ed25519PublicKeyFromRaw(record.signingKey);
  if (!verify(null, canonical, publicKey, record.signature)) {
    throw new IdentityMismatchError(`peer ${record.id} sent an identity record with a bad signature`);
  }
  verifiedRecords.add(digest);
  if (verifiedRecords.size > MAX_REMEMBERED_RECORDS) {
    verifiedRecords.delete(verifiedRecords.values().next().value as string);
  }
  return record;
}

const MAX_REMEMBERED_RECORDS = 4096;
/** Digests of records that passed every check, oldest first. */
const verifiedRecords = new Set<string>();

/** Length-prefixed fields, so that no two different records share a canonical form. */
function canonicalBytes(record: PeerIdentity): Buffer {
  const parts: Buffer[] = [Buffer.from('p2pm-identity-v1')];
  const push = (bytes: Uint8Array) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, Buffer.from(bytes));
  };
  const pushNumber = (value: number) => push(Buffer.from(String(value)));
  push(Buffer.from(record.id));
  push(Buffer.from(record.name));
  push(record.sealingKey);
  pushNumber(record.addresses.length);
  for (const address of record.addresses) push(Buffer.from(address));
  pushNumber(record.greetingPort);
  pushNumber(record.securePort);
  pushNumber(record.protocolVersion);
  pushNumber(record.issuedAtMs);
  return Buffer.concat(parts);
}

/**
 * A verified record without the addresses it names, for a peer met through a bridge: those
 * are of the peer's own network. Kept, not passed on (it no longer checks against its signature).
 */
export function withoutAddresses(record: PeerIdentity): PeerIdentity {
  return { ...record, addresses: [] };
}
