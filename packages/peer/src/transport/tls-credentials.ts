import { X509Certificate } from 'node:crypto';
import { createSecureContext, type PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { signingKeyOfCertificate } from '../identity/certificate.js';
import type { LocalIdentity } from '../identity/local-identity.js';
import { peerIdFromSigningKey } from '../identity/peer-id.js';

const TLS_VERSION = 'TLSv1.3';

/**
 * Server credentials for the secure port: TLS 1.3 with this peer's identity certificate,
 * asking every client for its certificate. The handshake completes whoever the client is;
 * the session handler then lets in only a certificate a verified greeting brought.
 */
export class PeerServerCredentials extends grpc.ServerCredentials {
  constructor(identity: LocalIdentity) {
    super(
      { requestCert: true, rejectUnauthorized: false, minVersion: TLS_VERSION },
      { key: identity.privateKeyPem, cert: identity.certificatePem, minVersion: TLS_VERSION },
    );
  }

  override _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

/**
 * Client credentials pinned to one peer: its own certificate is the only root, and the
 * certificate it presents must carry the key of the id we expect.
 */
export function pinnedChannelCredentials(
  identity: LocalIdentity,
  peerId: string,
  peerCertificateDer: Uint8Array,
): grpc.ChannelCredentials {
  const context = createSecureContext({
    key: identity.privateKeyPem,
    cert: identity.certificatePem,
    ca: [new X509Certificate(peerCertificateDer).toString()],
    minVersion: TLS_VERSION,
  });
  return grpc.credentials.createFromSecureContext(context, {
    checkServerIdentity: (_host, cert) =>
      peerIdOfCertificate(cert) === peerId ? undefined : new Error(`the server is not peer ${peerId}`),
  });
}

/** Channel options that make TLS name checks and SNI use the peer id. */
export function pinnedChannelOptions(peerId: string): grpc.ChannelOptions {
  return { 'grpc.ssl_target_name_override': peerId, 'grpc.default_authority': peerId };
}

/** The id whose key is in an authenticated TLS certificate, or null. */
export function peerIdOfCertificate(cert: PeerCertificate | undefined): string | null {
  if (!cert?.raw) return null;
  const key = signingKeyOfCertificate(cert.raw);
  return key ? peerIdFromSigningKey(key) : null;
}
