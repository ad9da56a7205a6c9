import * as grpc from '@grpc/grpc-js';
import type { Frame } from '@p2p-messenger/proto';
import type { PeerBook } from '../identity/peer-book.js';
import { widenServerWindows } from './flow-control.js';
import type { DecodedFrame } from './frame-codec.js';
import { Session } from './session.js';
import type { SessionRegistry } from './session-registry.js';
import { peerIdOfCertificate } from './tls-credentials.js';

/**
 * The Session handler of the secure port: the caller is whoever its TLS certificate proves it
 * is. Certificates are trusted only after a verified greeting, so a caller that did not greet,
 * or whose certificate is not its own, carries no authenticated certificate and is refused.
 */
export function sessionHandler(book: PeerBook, registry: SessionRegistry) {
  return (call: grpc.ServerDuplexStream<DecodedFrame, Frame>) => {
    const peerId = peerIdOfCertificate(call.getAuthContext()?.sslPeerCertificate);
    if (!peerId || !book.get(peerId)) {
      call.emit('error', {
        code: grpc.status.UNAUTHENTICATED,
        details: 'unknown or unproven peer: greet first, with a certificate for your own key',
      });
      return;
    }
    widenServerWindows(call);
    registry.offer(Session.fromServerCall(peerId, call));
  };
}
