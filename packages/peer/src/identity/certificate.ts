import 'reflect-metadata';
import { type KeyObject, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { rawPublicKey } from './keys.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const DAY_MS = 86_400_000;
const VALIDITY_DAYS = 3650;
/** Renew a certificate this close to its end (it is pinned by key, not by certificate). */
const RENEW_BEFORE_DAYS = 30;

/**
 * A self-signed certificate for the identity key, naming the peer id as its subject and as
 * its DNS name, so TLS between peers is bound to their identities.
 */
export async function createIdentityCertificate(
  peerId: string,
  signingKey: KeyObject,
  signingPublicKey: KeyObject,
): Promise<string> {
  const algorithm = { name: 'Ed25519' };
  const privateKey = await webcrypto.subtle.importKey(
    'pkcs8',
    signingKey.export({ format: 'der', type: 'pkcs8' }),
    algorithm,
    false,
    ['sign'],
  );
  const publicKey = await webcrypto.subtle.importKey(
    'spki',
    signingPublicKey.export({ format: 'der', type: 'spki' }),
    algorithm,
    true,
    ['verify'],
  );
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(16)
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    name: `CN=${peerId}`,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + VALIDITY_DAYS * DAY_MS),
    signingAlgorithm: algorithm,
    keys: { privateKey, publicKey } as unknown as Parameters<
      typeof x509.X509CertificateGenerator.createSelfSigned
    >[0]['keys'],
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: peerId }]),
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
    ],
  });
  return cert.toString('pem');
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
