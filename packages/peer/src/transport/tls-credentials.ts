import { X509Certificate } from 'node:crypto';
import { createSecureContext, type PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { signingKeyOfCertificate } from '../identity/certificate.js';
import type { LocalIdentity } from '../identity/local-identity.js';
import { peerIdFromSigningKey } from '../identity/peer-id.js';

const TLS_VERSION = 'TLSv1.3';

/**
 * Server credentials for the secure port: TLS 1.3 with this peer's identity certificate,
 * asking every client for its certificate and trusting exactly the certificates of peers that
 * greeted us (checked against their ids). A client whose certificate is not trusted still
 * completes the handshake, but its calls carry no authenticated certificate and are refused.
 */
export class PeerServerCredentials extends grpc.ServerCredentials {
  readonly #identity: LocalIdentity;
  readonly #trusted = new Map<string, string>();
  #rebuild: NodeJS.Immediate | null = null;

  constructor(identity: LocalIdentity) {
    super(
      { requestCert: true, rejectUnauthorized: false, minVersion: TLS_VERSION },
      {
        key: identity.privateKeyPem,
        cert: identity.certificatePem,
        ca: [identity.certificatePem],
        minVersion: TLS_VERSION,
      },
    );
    this.#identity = identity;
  }

  /**
   * Trusts a peer's certificate for new connections. The TLS context is rebuilt once per
   * burst (a LAN full of newcomers greets at once; each rebuild parses every certificate),
   * in the check phase right after the current I/O: before any connection that a greeting
   * answered now can come back to the secure port.
   */
  trust(peerId: string, certificateDer: Uint8Array): void {
    const pem = new X509Certificate(certificateDer).toString();
    if (this.#trusted.get(peerId) === pem) return;
    this.#trusted.set(peerId, pem);
    if (this.#rebuild) return;
    this.#rebuild = setImmediate(() => {
      this.#rebuild = null;
      this.updateSecureContextOptions({
        key: this.#identity.privateKeyPem,
        cert: this.#identity.certificatePem,
        // One PEM per entry: a single concatenated buffer would trust only the first.
        ca: [this.#identity.certificatePem, ...this.#trusted.values()],
        minVersion: TLS_VERSION,
      });
    });
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
