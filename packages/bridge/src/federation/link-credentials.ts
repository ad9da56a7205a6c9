import { createSecureContext, type PeerCertificate, TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import {
  http2SessionOfCall,
  type LocalIdentity,
  PeerServerCredentials,
  peerIdOfCertificate,
  pinnedChannelCredentials,
  pinnedChannelOptions,
} from '@p2p-messenger/peer';

/** How a link finds out that the other end is gone although no packet says so. */
export interface LinkKeepalive {
  /** A ping after this long without one (default 10 s). */
  timeMs?: number;
  /** The link is dead when a ping gets no answer within this (default 5 s). */
  timeoutMs?: number;
}

/** gRPC keepalive on links: by default, a silent dead link is noticed within ~15 s. */
export function linkChannelOptions(keepalive: LinkKeepalive = {}): grpc.ChannelOptions {
  return {
    'grpc.keepalive_time_ms': keepalive.timeMs ?? 10_000,
    'grpc.keepalive_timeout_ms': keepalive.timeoutMs ?? 5_000,
    'grpc.keepalive_permit_without_calls': 1,
    // A fresh connection per dial: one opened before a reconnect must not be reused.
    'grpc.use_local_subchannel_pool': 1,
  };
}

/** The listener: TLS 1.3 with the bridge's certificate, asking every client for its own. */
export function linkServerCredentials(identity: LocalIdentity): grpc.ServerCredentials {
  return new PeerServerCredentials(identity);
}

/**
 * The dialer's first channel, for Identify only: TLS that accepts any server certificate,
 * since the record it returns is what gets checked (its key must hash to the expected id).
 */
export function unverifiedChannelCredentials(identity: LocalIdentity): grpc.ChannelCredentials {
  const context = createSecureContext({
    key: identity.privateKeyPem,
    cert: identity.certificatePem,
    minVersion: 'TLSv1.3',
  });
  return grpc.credentials.createFromSecureContext(context, {
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  });
}

/** The dialer's link channel: pinned to the certificate of the bridge it checked. */
export function pinnedLinkChannel(
  identity: LocalIdentity,
  bridgeId: string,
  certificateDer: Uint8Array,
  keepalive?: LinkKeepalive,
): { credentials: grpc.ChannelCredentials; options: grpc.ChannelOptions } {
  return {
    credentials: pinnedChannelCredentials(identity, bridgeId, certificateDer),
    options: { ...pinnedChannelOptions(bridgeId), ...linkChannelOptions(keepalive) },
  };
}

/**
 * The id a server call's client proved in the TLS handshake (TLS 1.3 made it sign with the
 * key of the certificate it presented), or null when it presented none.
 */
export function callerBridgeId(call: unknown): string | null {
  const socket = http2SessionOfCall(call)?.socket;
  if (!(socket instanceof TLSSocket)) return null;
  const cert: PeerCertificate | undefined = socket.getPeerCertificate();
  return cert?.raw ? peerIdOfCertificate(cert) : null;
}
