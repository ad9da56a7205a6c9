import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import {
  type LinkAnswer,
  type LinkMessage,
  type LinkRequest,
  type OpenRelay,
  PROTOCOL_VERSION,
  type RelayChunk,
  type RouteUpdate,
} from '@p2p-messenger/proto';
import type { Logger } from 'pino';
import { RelayRefusedError, type SeamCallOptions } from '../relay-seam.js';
import { LinkClosedError, LinkProtocolError, LinkTimeoutError } from './errors.js';

export type LinkRole = 'dialer' | 'listener';
export type LinkCall =
  | grpc.ClientDuplexStream<LinkMessage, LinkMessage>
  | grpc.ServerDuplexStream<LinkMessage, LinkMessage>;
export type RelayServerCall = grpc.ServerDuplexStream<RelayChunk, RelayChunk>;
export type RequestBody = NonNullable<LinkRequest['body']>;
export type AnswerBody = NonNullable<LinkAnswer['body']>;

/** Default wait for an answer across a link (a greeting may cross several bridges). */
export const DEFAULT_LINK_REQUEST_TIMEOUT_MS = 10_000;
/** How long a stopping dialer waits for the listener to end the stream before cancelling it. */
const CLOSE_GRACE_MS = 1_000;

export interface LinkSessionEvents {
  ready: [];
  update: [update: RouteUpdate];
  request: [request: LinkRequest];
  openRelay: [message: OpenRelay];
  closed: [err: Error | null];
}

interface Pending<T> {
  resolve(value: T): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * One Link stream between two bridges, from either end: the hello each way (the first
 * message must name the bridge the certificate proved), then route updates, requests and
 * their answers (correlated by request id), and relay tickets.
 */
export class LinkSession extends EventEmitter<LinkSessionEvents> {
  readonly localId: string;
  readonly remoteId: string;
  readonly role: LinkRole;
  readonly #call: LinkCall;
  readonly #log: Logger;
  #helloSeen = false;
  /** Messages after the hello, held until the owner has listened (activate). */
  #held: LinkMessage[] | null = [];
  #closed = false;
  #nextId = 1;
  readonly #requests = new Map<number, Pending<AnswerBody>>();
  readonly #tickets = new Map<number, Pending<RelayServerCall>>();

  constructor(init: { localId: string; remoteId: string; role: LinkRole; call: LinkCall; log: Logger }) {
    super();
    this.localId = init.localId;
    this.remoteId = init.remoteId;
    this.role = init.role;
    this.#call = init.call;
    this.#log = init.log;
    this.#call.on('data', (message: LinkMessage) => this.#receive(message));
    this.#call.on('end', () => {
      // The dialer half-closed (it is stopping): the listener ends the call in turn.
      if (!('cancel' in this.#call)) this.#call.end();
      this.#finish(null);
    });
    this.#call.on('error', (err: Error) => this.#finish(err));
    this.#call.on('cancelled', () => this.#finish(new LinkClosedError(`bridge ${this.remoteId} cancelled the link`)));
    this.#send({ body: { $case: 'hello', value: { bridgeId: this.localId, protocolVersion: PROTOCOL_VERSION } } });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves once the other bridge's hello arrived; rejects if the link closes first. */
  ready(timeoutMs: number): Promise<void> {
    if (this.#helloSeen) return Promise.resolve();
    if (this.#closed) return Promise.reject(new LinkClosedError(`link to ${this.remoteId} closed`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new LinkTimeoutError(`bridge ${this.remoteId} sent no hello within ${timeoutMs} ms`));
      }, timeoutMs);
      const onReady = () => {
        cleanup();
        resolve();
      };
      const onClosed = (err: Error | null) => {
        cleanup();
        reject(err ?? new LinkClosedError(`link to ${this.remoteId} closed before its hello`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.off('ready', onReady);
        this.off('closed', onClosed);
      };
      this.on('ready', onReady);
      this.on('closed', onClosed);
    });
  }

  sendUpdate(update: RouteUpdate): void {
    this.#send({ body: { $case: 'update', value: update } });
  }

  answer(requestId: number, body: AnswerBody): void {
    this.#send({ body: { $case: 'answer', value: { requestId, body } } });
  }

  /** A greeting or identify toward a peer through the other bridge; resolves with its answer. */
  request(targetId: string, body: RequestBody, options: SeamCallOptions = {}): Promise<AnswerBody> {
    const requestId = this.#nextId++;
    const answer = this.#await(this.#requests, requestId, options, `${body.$case} of ${targetId}`);
    this.#send({ body: { $case: 'request', value: { requestId, targetId, body } } });
    return answer;
  }

  /**
   * The listening side's way to a relay stream: ask the dialing side to open one toward the
   * target, and wait for its Relay call with our ticket (or its refusal).
   */
  requestRelay(targetId: string, options: SeamCallOptions = {}): Promise<RelayServerCall> {
    const ticket = this.#nextId++;
    const call = this.#await(this.#tickets, ticket, options, `relay to ${targetId}`);
    this.#send({ body: { $case: 'openRelay', value: { ticket, targetId } } });
    return call;
  }

  /** A Relay call arrived with a ticket of ours: hands it to whoever asked. */
  deliverTicket(ticket: number, call: RelayServerCall): boolean {
    const pending = this.#tickets.get(ticket);
    if (!pending) return false;
    this.#tickets.delete(ticket);
    clearTimeout(pending.timer);
    pending.resolve(call);
    return true;
  }

  /** Ends the stream: the listener ends its call, the dialer half-closes and then cancels. */
  close(): void {
    if (this.#closed) return;
    if ('cancel' in this.#call) {
      const call = this.#call;
      call.end();
      const timer = setTimeout(() => call.cancel(), CLOSE_GRACE_MS);
      timer.unref();
      this.once('closed', () => clearTimeout(timer));
    } else {
      this.#call.end();
      this.#finish(null);
    }
  }

  #await<T>(map: Map<number, Pending<T>>, id: number, options: SeamCallOptions, what: string): Promise<T> {
    if (this.#closed) return Promise.reject(new LinkClosedError(`link to ${this.remoteId} is closed`));
    const timeoutMs = options.timeoutMs ?? DEFAULT_LINK_REQUEST_TIMEOUT_MS;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => settle(() => reject(options.signal?.reason ?? new LinkClosedError(`${what} aborted`)));
      const settle = (done: () => void) => {
        map.delete(id);
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        done();
      };
      const timer = setTimeout(
        () =>
          settle(() => reject(new LinkTimeoutError(`${what} through ${this.remoteId}: no answer in ${timeoutMs} ms`))),
        timeoutMs,
      );
      map.set(id, {
        resolve: (value) => settle(() => resolve(value)),
        reject: (err) => settle(() => reject(err)),
        timer,
      });
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #receive(message: LinkMessage): void {
    const body = message.body;
    if (!this.#helloSeen) {
      if (body?.$case !== 'hello' || body.value.bridgeId !== this.remoteId) {
        this.#fail(new LinkProtocolError(`bridge ${this.remoteId} did not open with its own hello`));
        return;
      }
      if (body.value.protocolVersion !== PROTOCOL_VERSION) {
        this.#fail(new LinkProtocolError(`bridge ${this.remoteId} speaks protocol ${body.value.protocolVersion}`));
        return;
      }
      this.#helloSeen = true;
      this.emit('ready');
      return;
    }
    if (this.#held) this.#held.push(message);
    else this.#dispatch(message);
  }

  /**
   * Starts delivering update, request and openRelay events. Until then they are held: the
   * other bridge may send its table right behind its hello, before anyone listens.
   */
  activate(): void {
    const held = this.#held ?? [];
    this.#held = null;
    for (const message of held) this.#dispatch(message);
  }

  #dispatch(message: LinkMessage): void {
    const body = message.body;
    switch (body?.$case) {
      case 'update':
        this.emit('update', body.value);
        return;
      case 'request':
        this.emit('request', body.value);
        return;
      case 'openRelay':
        this.emit('openRelay', body.value);
        return;
      case 'answer':
        this.#answered(body.value);
        return;
      default:
        this.#log.warn({ bridgeId: this.remoteId, kind: body?.$case }, 'unexpected link message ignored');
    }
  }

  #answered(answer: LinkAnswer): void {
    const request = this.#requests.get(answer.requestId);
    if (request && answer.body) {
      request.resolve(answer.body);
      return;
    }
    const ticket = this.#tickets.get(answer.requestId);
    if (ticket && answer.body?.$case === 'refusal') {
      ticket.reject(new RelayRefusedError(answer.body.value.code, answer.body.value.message));
    }
  }

  #send(message: LinkMessage): void {
    if (this.#closed) return;
    this.#call.write(message);
  }

  #fail(err: Error): void {
    this.#log.warn({ err, bridgeId: this.remoteId }, 'link closed: protocol error');
    if ('cancel' in this.#call) this.#call.cancel();
    else this.#call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: err.message });
    this.#finish(err);
  }

  #finish(err: Error | null): void {
    if (this.#closed) return;
    this.#closed = true;
    const gone = new LinkClosedError(`link to ${this.remoteId} closed${err ? `: ${err.message}` : ''}`);
    for (const pending of [...this.#requests.values(), ...this.#tickets.values()]) pending.reject(gone);
    this.emit('closed', err);
  }
}
