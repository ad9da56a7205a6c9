import * as grpc from '@grpc/grpc-js';
import {
  GreetingServiceClient,
  type GreetingServiceServer,
  type GreetRequest,
  type GreetResponse,
  type IdentifyRequest,
  type IdentifyResponse,
  type KnownPeer,
  type PeerIdentity,
} from '@p2p-messenger/proto';
import { IdentityMismatchError } from '../errors.js';
import { verifyIdentityRecord } from '../identity/identity-record.js';
import { hostOfGrpcPeer } from '../util/address.js';
import { type CallOptions, withDeadline } from '../util/deadline.js';

/** What the greeting service needs from the peer. */
export interface GreetingHost {
  ownRecord(): PeerIdentity;
  knownPeers(): KnownPeer[];
  /**
   * A verified greeter, the address its greeting came from (null when a bridge relayed it:
   * that address is the bridge's), the peers it passed on, and the bridge that relayed it ('' if none).
   */
  greeted(record: PeerIdentity, observedHost: string | null, knownPeers: KnownPeer[], viaBridgeId: string): void;
}

export function greetingService(host: GreetingHost): GreetingServiceServer {
  const notMe = (targetId: string): grpc.ServiceError | null => {
    const ownId = host.ownRecord().id;
    if (targetId === '' || targetId === ownId) return null;
    return Object.assign(new Error(`this is peer ${ownId}, not ${targetId}`), {
      code: grpc.status.NOT_FOUND,
      details: `this is peer ${ownId}, not ${targetId}`,
      metadata: new grpc.Metadata(),
    });
  };
  return {
    identify(
      call: grpc.ServerUnaryCall<IdentifyRequest, IdentifyResponse>,
      callback: grpc.sendUnaryData<IdentifyResponse>,
    ) {
      const refusal = notMe(call.request.targetId);
      if (refusal) callback(refusal);
      else callback(null, { identity: host.ownRecord() });
    },
    greet(call: grpc.ServerUnaryCall<GreetRequest, GreetResponse>, callback: grpc.sendUnaryData<GreetResponse>) {
      const refusal = notMe(call.request.targetId);
      if (refusal) return callback(refusal);
      // Through a bridge, the address seen is the bridge's: no address of the greeter.
      const observed = call.request.viaBridgeId ? null : hostOfGrpcPeer(call.getPeer());
      try {
        host.greeted(
          verifyIdentityRecord(call.request.identity),
          observed,
          call.request.knownPeers,
          call.request.viaBridgeId,
        );
      } catch (err) {
        const code = err instanceof IdentityMismatchError ? grpc.status.PERMISSION_DENIED : grpc.status.INTERNAL;
        callback({ code, details: (err as Error).message });
        return;
      }
      callback(null, {
        identity: host.ownRecord(),
        knownPeers: host.knownPeers(),
        observedAddress: observed ?? '',
      });
    },
  };
}

export interface GreetResult {
  identity: PeerIdentity;
  knownPeers: KnownPeer[];
  /** Our own address as the other peer saw it. */
  observedAddress: string;
}

type Callback<T> = (err: grpc.ServiceError | null, value: T) => void;

/** One call to the greeting service at `target`, on a channel of its own, within the deadline. */
async function callGreeting<T>(
  target: string,
  options: CallOptions,
  call: (client: GreetingServiceClient, deadline: Date, done: Callback<T>) => void,
): Promise<T> {
  const client = new GreetingServiceClient(target, grpc.credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
  });
  try {
    return await withDeadline(
      options,
      (deadline) =>
        new Promise<T>((resolve, reject) =>
          call(client, deadline, (err, value) => (err ? reject(err) : resolve(value))),
        ),
    );
  } finally {
    client.close();
  }
}

/**
 * Greets the peer at `target` ("host:port" of its greeting port) and checks its answer: the
 * key must hash to its id, and to `expectedId` when we know whom we are calling.
 */
export async function greet(
  target: string,
  request: GreetRequest,
  expectedId: string | undefined,
  options: CallOptions = {},
): Promise<GreetResult> {
  const response = await callGreeting<GreetResponse>(target, options, (client, deadline, done) =>
    client.greet(request, new grpc.Metadata(), { deadline }, done),
  );
  return {
    identity: verifyIdentityRecord(response.identity, expectedId),
    knownPeers: response.knownPeers,
    observedAddress: response.observedAddress,
  };
}

/**
 * Asks the peer (or, at a bridge, the peer `targetId` beyond it) at `target` for its signed
 * record without introducing ourselves; the record must hash to `targetId`.
 */
export async function identify(target: string, targetId: string, options: CallOptions = {}): Promise<PeerIdentity> {
  const response = await callGreeting<IdentifyResponse>(target, options, (client, deadline, done) =>
    client.identify({ targetId }, new grpc.Metadata(), { deadline }, done),
  );
  return verifyIdentityRecord(response.identity, targetId);
}
