import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { certificateFitsKey, createIdentityCertificate } from '../src/identity/certificate.js';
import { oid, time, unsignedInteger } from '../src/identity/der.js';

const PEER_ID = 'abcdefghijklmnopqrstuvwxyz234567';

describe('the identity certificate', () => {
  it('is a self-signed Ed25519 certificate for the peer id that Node’s and OpenSSL’s parsers accept', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = await createIdentityCertificate(PEER_ID, privateKey, publicKey);
    const cert = new X509Certificate(pem);
    expect(cert.subject).toBe(`CN=${PEER_ID}`);
    expect(cert.issuer).toBe(`CN=${PEER_ID}`);
    expect(cert.subjectAltName).toBe(`DNS:${PEER_ID}`);
    expect(cert.checkHost(PEER_ID)).toBe(PEER_ID);
    expect(cert.ca).toBe(true);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(cert.verify(publicKey)).toBe(true);
    expect(cert.publicKey.equals(publicKey)).toBe(true);
    const years = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / (365.25 * 86_400_000);
    expect(years).toBeGreaterThan(9.9);
    expect(Date.parse(cert.validFrom)).toBeLessThan(Date.now());
    expect(certificateFitsKey(pem, publicKey)).toBe(true);
    expect(certificateFitsKey(pem, generateKeyPairSync('ed25519').publicKey)).toBe(false);
    // The key usage bits as OpenSSL reads them: a TLS stack that checks them would agree.
    expect(cert.toLegacyObject().ext_key_usage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  });

  it('encodes the DER pieces as X.690 says', () => {
    expect(oid('1.2.840.113549').toString('hex')).toBe('06062a864886f70d');
    expect(oid('2.5.29.17').toString('hex')).toBe('0603551d11');
    expect(unsignedInteger(Buffer.from([0x80])).toString('hex')).toBe('02020080');
    expect(unsignedInteger(Buffer.from([0, 0, 5])).toString('hex')).toBe('020105');
    expect(time(new Date('2036-01-02T03:04:05Z')).toString()).toContain('360102030405Z');
    expect(time(new Date('2036-01-02T03:04:05Z'))[0]).toBe(0x17);
    expect(time(new Date('2051-01-02T03:04:05Z'))[0]).toBe(0x18);
    expect(time(new Date('2051-01-02T03:04:05Z')).toString()).toContain('20510102030405Z');
  });
});
