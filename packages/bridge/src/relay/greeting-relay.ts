import * as grpc from '@grpc/grpc-js';
import {
  GreetingServiceService,
  type GreetRequest,
  type GreetResponse,
  type IdentifyRequest,
  type IdentifyResponse,
  type PeerIdentity,
} from '@p2p-messenger/proto';
import type { Logger } from 'pino';
import type { RelayStats } from './relay-stats.js';
import type { RelayTargets } from './relay-targets.js';

export interface GreetingRelayComponents {
  targets: RelayTargets;
  stats: RelayStats;
  /** The bridge's own signed record: what Identify without a target answers. */
  ownRecord(): PeerIdentity;
  log: Logger;
}

export interface GreetingRelayInit {
  host?: string;
  /** 0: any free port. */
  port?: number;
  /** Time for the target's answer, through every bridge on the way. */
  relayTimeoutMs?: number;
}

type Refusal = { code: grpc.status; details: string };

/**
 * The bridge's greeting port: a peer greets a peer of another network here, naming it in
 * target_id. The greeting goes on (through the federation) only to a peer this bridge
 * advertises; the known-peer lists are emptied both ways (their addresses belong to the
 * other network), and the last bridge tells the target that a bridge relayed it. The answer
 * is the target's own signed record, which the greeter checks against the id it asked for.
 */
export class GreetingRelay {
  readonly #components: GreetingRelayComponents;
  readonly #init: GreetingRelayInit;
  readonly #log: Logger;
  #server: grpc.Server | null = null;
  #port = 0;

  constructor(components: GreetingRelayComponents, init: GreetingRelayInit = {}) {
    this.#components = components;
    this.#init = init;
    this.#log = components.log.child({ component: 'greeting-relay' });
  }

  get port(): number {
    return this.#port;
  }

  async start(): Promise<void> {
    if (this.#server) return;
    const server = new grpc.Server();
    server.addService(GreetingServiceService, {
      greet: (call: grpc.ServerUnaryCall<GreetRequest, GreetResponse>, done: grpc.sendUnaryData<GreetResponse>) =>
        void this.#greet(call.request, call.getPeer()).then(
          (response) => done(null, response),
          (refusal: Refusal) => done(refusal),
        ),
      identify: (
        call: grpc.ServerUnaryCall<IdentifyRequest, IdentifyResponse>,
        done: grpc.sendUnaryData<IdentifyResponse>,
      ) =>
        void this.#identify(call.request, call.getPeer()).then(
          (response) => done(null, response),
          (refusal: Refusal) => done(refusal),
        ),
    });
    const address = `${this.#init.host ?? '0.0.0.0'}:${this.#init.port ?? 0}`;
    this.#port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
    this.#server = server;
    this.#log.info({ port: this.#port }, 'greeting relay listening');
  }

  /** Stops answering; calls in flight are cut after a short grace. Safe to call twice. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 1_000);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async #greet(request: GreetRequest, caller: string): Promise<GreetResponse> {
    const targetId = request.targetId;
    if (!targetId) {
      throw this.#refuse('FAILED_PRECONDITION', 'this is a bridge, not a peer: name the peer to greet (target_id)');
    }
    this.#checkAdvertised(targetId, caller);
    // The greeter's known peers are addresses of its own network: no use on the other side.
    const relayed: GreetRequest = { ...request, knownPeers: [], viaBridgeId: '' };
    try {
      const response = await this.#components.targets.relayGreeting(targetId, relayed, this.#options());
      return { identity: response.identity, knownPeers: [], observedAddress: '' };
    } catch (err) {
      throw this.#failed(err, targetId, caller);
    }
  }

  async #identify(request: IdentifyRequest, caller: string): Promise<IdentifyResponse> {
    const targetId = request.targetId;
    const own = this.#components.ownRecord();
    if (!targetId || targetId === own.id) return { identity: own };
    this.#checkAdvertised(targetId, caller);
    try {
      return { identity: await this.#components.targets.relayIdentify(targetId, this.#options()) };
    } catch (err) {
      throw this.#failed(err, targetId, caller);
    }
  }

  #options() {
    return { timeoutMs: this.#init.relayTimeoutMs ?? 10_000 };
  }

  /** No open relay: a peer this bridge does not advertise is not reached through it. */
  #checkAdvertised(targetId: string, caller: string): void {
    if (this.#components.targets.advertised(targetId)) return;
    this.#components.stats.refused('not-advertised');
    this.#log.info({ targetId, caller, reason: 'not-advertised' }, 'greeting refused');
    throw this.#refuse('NOT_FOUND', `this bridge relays to no peer ${targetId}`);
  }

  /** A refusal further along keeps its code (the target's own refusal included); the rest is UNAVAILABLE. */
  #failed(err: unknown, targetId: string, caller: string): Refusal {
    const error = err as Error & { code?: unknown; details?: string };
    const code = typeof error.code === 'number' ? (error.code as grpc.status) : grpc.status.UNAVAILABLE;
    const details = error.details ?? error.message;
    this.#components.stats.refused('unreachable');
    this.#log.info({ targetId, caller, reason: 'unreachable', details }, 'greeting not relayed');
    return { code, details: `peer ${targetId} through this bridge: ${details}` };
  }

  #refuse(code: keyof typeof grpc.status, details: string): Refusal {
    return { code: grpc.status[code], details };
  }
}
