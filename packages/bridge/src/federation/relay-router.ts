import type { Duplex } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import type {
  FederationClient,
  GreetRequest,
  GreetResponse,
  LinkRequest,
  OpenRelay,
  PeerIdentity,
  Refusal,
  RelayChunk,
} from '@p2p-messenger/proto';
import type { Logger } from 'pino';
import { NoRouteError, type RelayEgress, RelayRefusedError, type SeamCallOptions } from '../relay-seam.js';
import { LinkProtocolError, LinkTimeoutError } from './errors.js';
import {
  type AnswerBody,
  DEFAULT_LINK_REQUEST_TIMEOUT_MS,
  type LinkSession,
  type RequestBody,
} from './link-session.js';
import type { FederationRefusal } from './metrics.js';
import { joinStreams, relayDuplex } from './relay-stream.js';
import type { RouteTable } from './route-table.js';

/** Metadata of a Relay call: the peer it is for, or the ticket of an OpenRelay it answers. */
export const RELAY_TARGET_KEY = 'p2pm-relay-target';
export const RELAY_TICKET_KEY = 'p2pm-relay-ticket';

/** A link that is up: its session, and (when we dialed it) the client for Relay calls. */
export interface ActiveLink {
  readonly bridgeId: string;
  readonly session: LinkSession;
  readonly client: FederationClient | null;
}

export interface RelayRouterInit {
  table: RouteTable;
  link(bridgeId: string): ActiveLink | undefined;
  egress(): RelayEgress | null;
  refused(reason: FederationRefusal): void;
  log: Logger;
}

/**
 * Moves relay requests between links: ours toward a remote peer (by the route table's
 * choice), and other bridges' toward a local peer (through the relay side's egress) or on
 * along the next link. A bridge relays only to peers it advertised to the bridge that asks.
 */
export class RelayRouter {
  readonly #init: RelayRouterInit;

  constructor(init: RelayRouterInit) {
    this.#init = init;
  }

  async openRelay(targetId: string, options: SeamCallOptions = {}): Promise<Duplex> {
    const link = this.#linkTo(targetId);
    if (!link.client) {
      const call = await link.session.requestRelay(targetId, options);
      call.sendMetadata(new grpc.Metadata());
      return relayDuplex(call);
    }
    const metadata = new grpc.Metadata();
    metadata.set(RELAY_TARGET_KEY, targetId);
    const call = link.client.relay(metadata);
    const duplex = relayDuplex(call);
    // The far end sends headers once the target is connected, or a status refusing it.
    const timeoutMs = options.timeoutMs ?? DEFAULT_LINK_REQUEST_TIMEOUT_MS;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: grpc.ServiceError) => {
        settle();
        reject(
          err instanceof LinkTimeoutError
            ? err
            : new RelayRefusedError(err.code ?? grpc.status.UNAVAILABLE, err.details ?? err.message),
        );
      };
      const onAbort = () => duplex.destroy(new LinkTimeoutError(`relay to ${targetId} aborted`));
      const timer = setTimeout(
        () => duplex.destroy(new LinkTimeoutError(`relay to ${targetId}: not connected within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const settle = () => {
        clearTimeout(timer);
        duplex.off('error', onError);
        options.signal?.removeEventListener('abort', onAbort);
      };
      duplex.once('error', onError);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      call.once('metadata', () => {
        settle();
        resolve();
      });
    });
    return duplex;
  }

  async relayGreeting(targetId: string, request: GreetRequest, options?: SeamCallOptions): Promise<GreetResponse> {
    const answer = await this.#request(targetId, { $case: 'greet', value: request }, options);
    if (answer.$case !== 'greet') throw new LinkProtocolError(`a greeting was answered with ${answer.$case}`);
    return answer.value;
  }

  async relayIdentify(targetId: string, options?: SeamCallOptions): Promise<PeerIdentity> {
    const answer = await this.#request(targetId, { $case: 'identify', value: { targetId } }, options);
    if (answer.$case !== 'identify' || !answer.value.identity) {
      throw new LinkProtocolError(`an identify was answered with ${answer.$case}`);
    }
    return answer.value.identity;
  }

  /** A greeting or identify from another bridge: answered by the target's network. */
  handleRequest(link: ActiveLink, request: LinkRequest): void {
    const { requestId, targetId, body } = request;
    if (!body) {
      link.session.answer(requestId, refusal(grpc.status.INVALID_ARGUMENT, 'a request with no body'));
      return;
    }
    this.#answer(link.bridgeId, targetId, body).then(
      (answer) => link.session.answer(requestId, answer),
      (err: Error) => link.session.answer(requestId, { $case: 'refusal', value: this.#refusalOf(err) }),
    );
  }

  /** The listening side asked us (the dialer) for a relay stream toward a peer. */
  handleOpenRelay(link: ActiveLink, message: OpenRelay): void {
    const client = link.client;
    if (!client) {
      link.session.answer(
        message.ticket,
        refusal(grpc.status.FAILED_PRECONDITION, 'only the dialing side opens relays'),
      );
      return;
    }
    this.#reachTarget(link.bridgeId, message.targetId).then(
      (target) => {
        const metadata = new grpc.Metadata();
        metadata.set(RELAY_TICKET_KEY, String(message.ticket));
        joinStreams(relayDuplex(client.relay(metadata)), target);
      },
      (err: Error) => link.session.answer(message.ticket, { $case: 'refusal', value: this.#refusalOf(err) }),
    );
  }

  /** A Relay call from a trusted bridge: the answer to our ticket, or a relay toward a peer. */
  acceptRelay(bridgeId: string, call: grpc.ServerDuplexStream<RelayChunk, RelayChunk>): void {
    const refuse = (reason: FederationRefusal, code: grpc.status, details: string) => {
      this.#init.refused(reason);
      call.emit('error', { code, details });
    };
    const link = this.#init.link(bridgeId);
    if (!link) {
      refuse('no-link', grpc.status.FAILED_PRECONDITION, 'open a Link before relaying');
      return;
    }
    const ticket = call.metadata.get(RELAY_TICKET_KEY)[0];
    if (ticket !== undefined) {
      if (!link.session.deliverTicket(Number(ticket), call)) {
        refuse('unknown-ticket', grpc.status.NOT_FOUND, `no relay was asked for with ticket ${ticket}`);
      }
      return;
    }
    const targetId = call.metadata.get(RELAY_TARGET_KEY)[0];
    if (typeof targetId !== 'string') {
      refuse('no-route', grpc.status.INVALID_ARGUMENT, `name the target peer in ${RELAY_TARGET_KEY}`);
      return;
    }
    this.#reachTarget(bridgeId, targetId).then(
      (target) => {
        if (call.cancelled) {
          target.destroy();
          return;
        }
        call.sendMetadata(new grpc.Metadata());
        joinStreams(relayDuplex(call), target);
      },
      (err: Error) => {
        const { code, message } = this.#refusalOf(err);
        call.emit('error', { code, details: message });
      },
    );
  }

  #linkTo(targetId: string): ActiveLink {
    const nextHop = this.#init.table.linkFor(targetId);
    const link = nextHop ? this.#init.link(nextHop) : undefined;
    if (!link) {
      this.#init.refused('no-route');
      throw new NoRouteError(targetId);
    }
    return link;
  }

  async #request(targetId: string, body: RequestBody, options?: SeamCallOptions): Promise<AnswerBody> {
    const answer = await this.#linkTo(targetId).session.request(targetId, body, options);
    if (answer.$case === 'refusal') throw new RelayRefusedError(answer.value.code, answer.value.message);
    return answer;
  }

  async #answer(fromBridge: string, targetId: string, body: RequestBody): Promise<AnswerBody> {
    this.#checkAdvertised(fromBridge, targetId);
    if (!this.#init.table.localPeer(targetId)) return this.#request(targetId, body);
    const egress = this.#egress();
    if (body.$case === 'greet') return { $case: 'greet', value: await egress.greet(targetId, body.value) };
    return { $case: 'identify', value: { identity: await egress.identify(targetId) } };
  }

  async #reachTarget(fromBridge: string, targetId: string): Promise<Duplex> {
    this.#checkAdvertised(fromBridge, targetId);
    if (this.#init.table.localPeer(targetId)) return this.#egress().connect(targetId, fromBridge);
    return this.openRelay(targetId);
  }

  /** No open relay: only toward a peer we offered to the bridge that asks. */
  #checkAdvertised(fromBridge: string, targetId: string): void {
    if (this.#init.table.advertisedTo(fromBridge, targetId)) return;
    this.#init.refused('not-advertised');
    throw new RelayRefusedError(grpc.status.NOT_FOUND, `peer ${targetId} is not advertised to bridge ${fromBridge}`);
  }

  #egress(): RelayEgress {
    const egress = this.#init.egress();
    if (!egress) throw new RelayRefusedError(grpc.status.UNAVAILABLE, 'this bridge relays to no local peer yet');
    return egress;
  }

  #refusalOf(err: Error): Refusal {
    const code =
      err instanceof RelayRefusedError
        ? err.code
        : err instanceof NoRouteError
          ? grpc.status.NOT_FOUND
          : err instanceof LinkTimeoutError
            ? grpc.status.DEADLINE_EXCEEDED
            : statusCodeOf(err);
    if (code === grpc.status.UNAVAILABLE) this.#init.log.warn({ err }, 'relay request failed');
    return { code, message: err.message };
  }
}

function refusal(code: grpc.status, message: string): AnswerBody {
  return { $case: 'refusal', value: { code, message } };
}

/** The gRPC status a failed call carried, or UNAVAILABLE for anything else (a socket error). */
function statusCodeOf(err: Error): grpc.status {
  const code = (err as Partial<grpc.ServiceError>).code;
  return typeof code === 'number' ? code : grpc.status.UNAVAILABLE;
}
