import * as grpc from '@grpc/grpc-js';
import type {
  BridgeIdentifyRequest,
  BridgeIdentifyResponse,
  FederationServer,
  LinkMessage,
  PeerIdentity,
  RelayChunk,
} from '@p2p-messenger/proto';
import { callerBridgeId } from './link-credentials.js';

/** Why a call was refused at the door (a label of the refusals metric). */
export type DoorRefusal = 'no-certificate' | 'untrusted-bridge';

export interface FederationServiceHost {
  ownRecord(): PeerIdentity;
  isTrusted(bridgeId: string): boolean;
  acceptLink(bridgeId: string, call: grpc.ServerDuplexStream<LinkMessage, LinkMessage>): void;
  acceptRelay(bridgeId: string, call: grpc.ServerDuplexStream<RelayChunk, RelayChunk>): void;
  refused(reason: DoorRefusal, bridgeId: string | null, from: string): void;
}

/**
 * The Federation service of the listening side. Identify is open (the record is public and
 * checked by the caller); Link and Relay let in only a client whose TLS certificate carries
 * the key of a trusted bridge id. TLS 1.3 made the client sign the handshake with that key,
 * so a bridge that presents another's certificate never gets this far.
 */
export function federationService(host: FederationServiceHost): FederationServer {
  /** The trusted bridge behind a call, or null after refusing it. */
  const admit = (call: grpc.ServerDuplexStream<unknown, unknown>): string | null => {
    const bridgeId = callerBridgeId(call);
    if (!bridgeId) {
      host.refused('no-certificate', null, call.getPeer());
      call.emit('error', {
        code: grpc.status.UNAUTHENTICATED,
        details: 'present the TLS certificate of your bridge identity',
      });
      return null;
    }
    if (!host.isTrusted(bridgeId)) {
      host.refused('untrusted-bridge', bridgeId, call.getPeer());
      call.emit('error', {
        code: grpc.status.PERMISSION_DENIED,
        details: `bridge ${bridgeId} is not trusted here (add it with --trust)`,
      });
      return null;
    }
    return bridgeId;
  };
  return {
    identify(
      _call: grpc.ServerUnaryCall<BridgeIdentifyRequest, BridgeIdentifyResponse>,
      callback: grpc.sendUnaryData<BridgeIdentifyResponse>,
    ) {
      callback(null, { identity: host.ownRecord() });
    },
    link(call: grpc.ServerDuplexStream<LinkMessage, LinkMessage>) {
      const bridgeId = admit(call);
      if (bridgeId) host.acceptLink(bridgeId, call);
    },
    relay(call: grpc.ServerDuplexStream<RelayChunk, RelayChunk>) {
      const bridgeId = admit(call);
      if (bridgeId) host.acceptRelay(bridgeId, call);
    },
  };
}
