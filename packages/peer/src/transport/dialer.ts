import * as grpc from '@grpc/grpc-js';
import { type BackoffInit, backoffDelay } from '@p2p-messenger/discovery';
import type { GreetRequest } from '@p2p-messenger/proto';
import type { Logger } from 'pino';
import { withoutAddresses } from '../identity/identity-record.js';
import type { LocalIdentity } from '../identity/local-identity.js';
import type { PeerBook } from '../identity/peer-book.js';
import type { StoredPeer } from '../store/records.js';
import { hostPort } from '../util/address.js';
import { STREAM_WINDOW_BYTES } from './flow-control.js';
import { createFrameCodec, SESSION_PATH } from './frame-codec.js';
import { greet } from './greeting.js';
import type { RouteBook } from './route-book.js';
import { Session } from './session.js';
import { DIRECT, pathKey, type SessionPath, viaBridge } from './session-path.js';
import type { SessionRegistry } from './session-registry.js';
import { pinnedChannelCredentials, pinnedChannelOptions } from './tls-credentials.js';

export interface DialerComponents {
  identity: LocalIdentity;
  book: PeerBook;
  registry: SessionRegistry;
  /** Ways through bridges, tried after the peer's own addresses. */
  routes: RouteBook;
  /** A greeting naming its target (the peer we call). */
  greetRequest: (targetId: string) => GreetRequest;
  log: Logger;
  /** A dial to this peer failed (it may now count as unreachable). */
  dialFailed?: (peerId: string) => void;
}

export interface DialerInit extends BackoffInit {
  greetTimeoutMs?: number;
  /**
   * The time a direct greeting gets when a bridge's route comes after it: addresses a peer of
   * another network claims may lead nowhere from here, and the relay should not wait long.
   */
  directBeforeRelayTimeoutMs?: number;
  establishTimeoutMs?: number;
  keepaliveMs?: number;
}

/** One way to reach a peer: its own ports at one of its addresses, or a bridge's for it. */
interface DialPath {
  host: string;
  greetingPort: number;
  securePort: number;
  path: SessionPath;
}

interface Target {
  attempts: number;
  timer: NodeJS.Timeout | null;
  dialing: boolean;
  client: grpc.Client | null;
  clientKey: string;
}

/**
 * Keeps a session open to every peer it is asked to want: greets the peer (checking its key
 * against its id), opens the TLS stream pinned to that key, and after any failure or loss
 * tries again with backoff and jitter. A session the other side opened counts just as well.
 */
export class Dialer {
  readonly #components: DialerComponents;
  readonly #init: DialerInit;
  readonly #log: Logger;
  readonly #targets = new Map<string, Target>();
  readonly #codec = createFrameCodec();
  #running = false;

  constructor(components: DialerComponents, init: DialerInit = {}) {
    this.#components = components;
    this.#init = init;
    this.#log = components.log.child({ component: 'dialer' });
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#components.registry.on('closed', this.#onSessionClosed);
    this.#components.registry.on('opened', this.#onSessionOpened);
  }

  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#components.registry.off('closed', this.#onSessionClosed);
    this.#components.registry.off('opened', this.#onSessionOpened);
    for (const target of this.#targets.values()) {
      if (target.timer) clearTimeout(target.timer);
      target.client?.close();
    }
    this.#targets.clear();
  }

  /** Keep a session to this peer from now on. */
  want(peerId: string): void {
    if (!this.#running || peerId === this.#components.identity.id) return;
    if (!this.#targets.has(peerId)) {
      this.#targets.set(peerId, { attempts: 0, timer: null, dialing: false, client: null, clientKey: '' });
    }
    this.#schedule(peerId, 0);
  }

  /** A wanted peer just reappeared (discovery heard it): dial now instead of after the backoff. */
  hurry(peerId: string): void {
    const target = this.#targets.get(peerId);
    if (!target || target.dialing || this.#components.registry.get(peerId)?.isOpen) return;
    if (target.timer) clearTimeout(target.timer);
    target.timer = null;
    target.attempts = 0;
    this.#schedule(peerId, 0);
  }

  /** Whether the last dial to this peer failed and no session is open. */
  isFailing(peerId: string): boolean {
    const target = this.#targets.get(peerId);
    return !!target && target.attempts > 0 && !this.#components.registry.get(peerId)?.isOpen;
  }

  readonly #onSessionOpened = (session: Session) => {
    const target = this.#targets.get(session.peerId);
    if (target) target.attempts = 0;
  };

  readonly #onSessionClosed = (session: Session) => {
    const target = this.#targets.get(session.peerId);
    if (!target || !this.#running) return;
    this.#schedule(session.peerId, backoffDelay(target.attempts++, this.#init));
  };

  #schedule(peerId: string, delayMs: number): void {
    const target = this.#targets.get(peerId);
    if (!target || target.timer || target.dialing) return;
    target.timer = setTimeout(() => {
      target.timer = null;
      void this.#dial(peerId, target);
    }, delayMs);
  }

  async #dial(peerId: string, target: Target): Promise<void> {
    if (!this.#running || this.#components.registry.get(peerId)?.isOpen) return;
    target.dialing = true;
    let adopted = false;
    try {
      const peer = await this.#greet(this.#components.book.require(peerId));
      this.#log.debug({ remotePeerId: peerId, path: pathKey(peer.dial.path) }, 'greeted');
      if (!this.#running) return;
      const session = this.#openSession(peer, target);
      await session.established();
      if (!this.#running) {
        session.close();
        return;
      }
      // False when the other side's stream won the tie: check back later in case it goes away.
      adopted = this.#components.registry.offer(session);
    } catch (err) {
      const details = (err as Partial<grpc.StatusObject>).details ?? (err as Error).message;
      this.#log.debug({ remotePeerId: peerId, attempt: target.attempts, details }, 'dial failed');
    } finally {
      target.dialing = false;
    }
    if (!adopted && this.#running && !this.#components.registry.get(peerId)?.isOpen) {
      this.#schedule(peerId, backoffDelay(target.attempts++, this.#init));
      this.#components.dialFailed?.(peerId);
    }
  }

  /**
   * The ways to a peer in the order they are tried: its own addresses first (so a direct path
   * that appears wins at the next dial), then the bridges' routes, fewest hops first.
   */
  #pathsTo(peer: StoredPeer): DialPath[] {
    const direct = peer.addresses.map((host) => ({
      host,
      greetingPort: peer.greetingPort,
      securePort: peer.securePort,
      path: DIRECT,
    }));
    const relayed = this.#components.routes.routes(peer.id).map((route) => ({
      host: route.host,
      greetingPort: route.greetingPort,
      securePort: route.securePort,
      path: viaBridge(route.bridgeId),
    }));
    return [...direct, ...relayed];
  }

  /** Greets the peer along each way to it until one answers as that peer. */
  async #greet(peer: StoredPeer): Promise<StoredPeer & { dial: DialPath }> {
    let lastError: unknown = new Error(`peer ${peer.id} has no known address and no route through a bridge`);
    const paths = this.#pathsTo(peer);
    const relayed = paths.some((dial) => dial.path.kind === 'bridge');
    const timeoutMs = this.#init.greetTimeoutMs ?? 3_000;
    const directTimeoutMs = relayed ? Math.min(timeoutMs, this.#init.directBeforeRelayTimeoutMs ?? 1_000) : timeoutMs;
    for (const dial of paths) {
      try {
        const result = await greet(
          hostPort(dial.host, dial.greetingPort),
          this.#components.greetRequest(peer.id),
          peer.id,
          { timeoutMs: dial.path.kind === 'direct' ? directTimeoutMs : timeoutMs },
        );
        // A bridge's address is no address of the peer: only a direct answer teaches one. Nor
        // are those it signed, through a bridge: they are of its own network.
        const learned =
          dial.path.kind === 'direct'
            ? this.#components.book.learn(result.identity, [dial.host])
            : this.#components.book.learn(withoutAddresses(result.identity), []);
        return { ...learned, dial };
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  }

  #openSession(peer: StoredPeer & { dial: DialPath }, target: Target): Session {
    const { dial } = peer;
    // Through a bridge the ports are the bridge's; direct, the peer's as its record now says.
    const securePort = dial.path.kind === 'direct' ? peer.securePort : dial.securePort;
    const key = `${dial.host}|${securePort}|${peer.certificate.toString('base64')}`;
    if (!target.client || target.clientKey !== key) {
      target.client?.close();
      target.client = new grpc.Client(
        hostPort(dial.host, securePort),
        pinnedChannelCredentials(this.#components.identity, peer.id, peer.certificate),
        {
          ...pinnedChannelOptions(peer.id),
          'grpc.use_local_subchannel_pool': 1,
          'grpc.keepalive_time_ms': this.#init.keepaliveMs ?? 20_000,
          'grpc.keepalive_timeout_ms': 10_000,
          'grpc.max_receive_message_length': 8 * 1024 * 1024,
          'grpc.initial_reconnect_backoff_ms': 250,
          'grpc-node.flow_control_window': STREAM_WINDOW_BYTES,
        },
      );
      target.clientKey = key;
    }
    const call = target.client.makeBidiStreamRequest(
      SESSION_PATH,
      this.#codec.serialize,
      this.#codec.deserialize,
      new grpc.Metadata(),
      {},
    );
    const session = Session.fromClientCall(peer.id, call, dial.path);
    const timer = setTimeout(
      () => session.close(grpc.status.DEADLINE_EXCEEDED, 'no answer'),
      this.#init.establishTimeoutMs ?? 10_000,
    );
    session.established().then(
      () => clearTimeout(timer),
      () => clearTimeout(timer),
    );
    return session;
  }
}
