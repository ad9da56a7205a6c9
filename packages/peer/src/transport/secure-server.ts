import { type PeerCertificate, TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { Frame } from '@p2p-messenger/proto';
import type { PeerBook } from '../identity/peer-book.js';
import { http2SessionOfCall } from './call-internals.js';
import { widenServerWindows } from './flow-control.js';
import type { DecodedFrame } from './frame-codec.js';
import { Session } from './session.js';
import type { GreetingPaths } from './session-path.js';
import type { SessionRegistry } from './session-registry.js';
import { peerIdOfCertificate } from './tls-credentials.js';

/**
 * The certificate the client presented. TLS 1.3 made the client sign the handshake with its
 * key (CertificateVerify), so the client holds the key of whatever certificate this returns,
 * trusted or not: trust is decided against the peer book, not a CA list (rebuilding a TLS
 * context with every peer's certificate each time one more greets costs a LAN dearly).
 */
function clientCertificateOf(call: unknown): PeerCertificate | undefined {
  const socket = http2SessionOfCall(call)?.socket;
  if (!(socket instanceof TLSSocket)) return undefined;
  const cert = socket.getPeerCertificate();
  return cert?.raw ? cert : undefined;
}

/**
 * The Session handler of the secure port: the caller is whoever its TLS certificate proves it
 * is, and only a peer that greeted (checked against its id) with that very certificate is
 * let in. A caller that did not greet, or whose certificate is not the one it greeted with,
 * is refused.
 */
export function sessionHandler(book: PeerBook, registry: SessionRegistry, paths: GreetingPaths) {
  return (call: grpc.ServerDuplexStream<DecodedFrame, Frame>) => {
    const cert = clientCertificateOf(call);
    const peerId = peerIdOfCertificate(cert);
    const known = peerId ? book.get(peerId) : null;
    if (!peerId || !cert || !known?.certificate.equals(cert.raw)) {
      call.emit('error', {
        code: grpc.status.UNAUTHENTICATED,
        details: 'unknown or unproven peer: greet first, with a certificate for your own key',
      });
      return;
    }
    widenServerWindows(call);
    registry.offer(Session.fromServerCall(peerId, call, paths.of(peerId)));
  };
}
