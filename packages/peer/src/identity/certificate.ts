import { type KeyObject, randomBytes, sign, X509Certificate } from 'node:crypto';
import {
  bitString,
  boolean,
  explicit,
  octetString,
  oid,
  sequence,
  set,
  time,
  tlv,
  unsignedInteger,
  utf8String,
} from './der.js';
import { rawPublicKey } from './keys.js';

const DAY_MS = 86_400_000;
const VALIDITY_DAYS = 3650;
/** Renew a certificate this close to its end (it is pinned by key, not by certificate). */
const RENEW_BEFORE_DAYS = 30;

const ED25519 = sequence(oid('1.3.101.112'));
const COMMON_NAME = '2.5.4.3';

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

/**
 * A self-signed certificate for the identity key, naming the peer id as its subject and as
 * its DNS name, so TLS between peers is bound to their identities. Written as DER by hand:
 * one fixed shape of certificate does not need an X.509 library (and the memory it takes).
 */
export async function createIdentityCertificate(
  peerId: string,
  signingKey: KeyObject,
  signingPublicKey: KeyObject,
): Promise<string> {
  const now = Date.now();
  const name = sequence(set(sequence(oid(COMMON_NAME), utf8String(peerId))));
  // A positive serial of 16 random bytes.
  const serial = randomBytes(16);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01;
  const tbs = sequence(
    explicit(0, unsignedInteger(Buffer.from([2]))), // v3
    unsignedInteger(serial),
    ED25519,
    name,
    sequence(time(new Date(now - DAY_MS)), time(new Date(now + VALIDITY_DAYS * DAY_MS))),
    name,
    signingPublicKey.export({ format: 'der', type: 'spki' }),
    explicit(
      3,
      sequence(
        // subjectAltName: dNSName = the peer id.
        extension('2.5.29.17', false, sequence(tlv(0x82, Buffer.from(peerId, 'ascii')))),
        // basicConstraints: a CA (it signs itself), critical.
        extension('2.5.29.19', true, sequence(boolean(true))),
        // keyUsage: digitalSignature and keyCertSign, critical.
        extension('2.5.29.15', true, bitString(Buffer.from([0x84]), 2)),
        // extKeyUsage: TLS server and client.
        extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2'))),
      ),
    ),
  );
  const der = sequence(tbs, ED25519, bitString(sign(null, tbs, signingKey)));
  const base64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${base64}-----END CERTIFICATE-----\n`;
}

/** Whether a stored certificate still fits the identity key and is not about to expire. */
export function certificateFitsKey(pem: string, signingPublicKey: KeyObject): boolean {
  try {
    const cert = new X509Certificate(pem);
    if (!rawPublicKey(cert.publicKey).equals(rawPublicKey(signingPublicKey))) return false;
    return Date.parse(cert.validTo) - Date.now() > RENEW_BEFORE_DAYS * DAY_MS;
  } catch {
    return false;
  }
}

/** The raw Ed25519 key inside a DER certificate, or null if it is not an Ed25519 certificate. */
export function signingKeyOfCertificate(der: Uint8Array): Buffer | null {
  try {
    const cert = new X509Certificate(der);
    if (cert.publicKey.asymmetricKeyType !== 'ed25519') return null;
    return rawPublicKey(cert.publicKey);
  } catch {
    return null;
  }
}
