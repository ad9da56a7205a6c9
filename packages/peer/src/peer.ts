import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  GreetingServiceService,
  type GreetRequest,
  type KnownPeer,
  type PeerIdentity,
  PROTOCOL_VERSION,
} from '@p2p-messenger/proto';
import pino, { type Logger } from 'pino';
import { ConfigError, MessageTooLargeError, PeerStoppedError } from './errors.js';
import { signIdentityRecord } from './identity/identity-record.js';
import { type LocalIdentity, loadOrCreateIdentity } from './identity/local-identity.js';
import { PeerBook } from './identity/peer-book.js';
import { fingerprintOf } from './identity/peer-id.js';
import type { InboundContext } from './messaging/inbound.js';
import { LamportClock } from './messaging/lamport-clock.js';
import { OutboxWriter } from './messaging/outbox-writer.js';
import { type LinkListener, PeerLink } from './messaging/peer-link.js';
import { Checkpointer } from './store/checkpointer.js';
import { MessageStore, type SyncMode } from './store/message-store.js';
import { directConversationId, type MessageRecord, type MessageStateName, type StoredPeer } from './store/records.js';
import { Dialer } from './transport/dialer.js';
import { messagingServiceDefinition } from './transport/frame-codec.js';
import { greet, greetingService } from './transport/greeting.js';
import { sessionHandler } from './transport/secure-server.js';
import { bindServer, shutdownServer } from './transport/servers.js';
import { SessionRegistry } from './transport/session-registry.js';
import { PeerServerCredentials } from './transport/tls-credentials.js';
import { hostPort, parseHostPort } from './util/address.js';
import { backoffDelay } from './util/backoff.js';
import type { CallOptions } from './util/deadline.js';
import { UlidGenerator } from './util/ulid.js';

export interface PeerOptions {
  name: string;
  dataDir: string;
  /** Address the two ports listen on. Default: all interfaces. */
  listenHost?: string;
  /** 0 picks a free port. */
  greetingPort?: number;
  securePort?: number;
  /** Addresses other peers can reach this one at, sent in greetings. */
  advertisedAddresses?: string[];
  /** Greeting addresses ("host:port") of peers to contact at start. */
  staticPeers?: string[];
  /** Largest message text this peer sends or accepts, in UTF-8 bytes. */
  maxMessageBytes?: number;
  /** `full` adds an fsync per commit (survives power loss, not just crashes). */
  sync?: SyncMode;
  reconnectMinDelayMs?: number;
  reconnectMaxDelayMs?: number;
  logger?: Logger;
}

export interface PeerSummary {
  id: string;
  name: string;
  fingerprint: string;
  online: boolean;
  lastSeenMs: number;
  unread: number;
  addresses: string[];
}

export interface StateChange {
  messageId: string;
  peerId: string;
  state: MessageStateName;
  error?: string;
}

export interface PeerEvents {
  /** A new message from another peer (each one once). */
  message: [MessageRecord];
  /** One of this peer's own messages moved to a new state. */
  state: [StateChange];
  /** A peer was learned of, came online or went offline. */
  peer: [PeerSummary];
}

export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
const MAX_KNOWN_PEERS_SHARED = 64;
const SHUTDOWN_GRACE_MS = 2_000;

interface Running {
  identity: LocalIdentity;
  store: MessageStore;
  checkpointer: Checkpointer;
  book: PeerBook;
  registry: SessionRegistry;
  dialer: Dialer;
  writer: OutboxWriter;
  clock: LamportClock;
  ids: UlidGenerator;
  links: Map<string, PeerLink>;
  greetingServer: grpc.Server;
  secureServer: grpc.Server;
  greetingPort: number;
  securePort: number;
  ownRecord: PeerIdentity;
  abort: AbortController;
}

/**
 * A messenger peer: its identity, its durable store, the two ports other peers talk to, and
 * the sessions it keeps with the peers it knows. Start it, send and read messages, stop it.
 */
export class Peer extends EventEmitter<PeerEvents> {
  readonly options: Readonly<PeerOptions>;
  readonly #log: Logger;
  #running: Running | null = null;
  #starting: Promise<void> | null = null;

  constructor(options: PeerOptions) {
    super();
    if (!options.name.trim()) throw new ConfigError('a peer needs a name');
    for (const address of options.staticPeers ?? []) {
      if (!parseHostPort(address)) throw new ConfigError(`peer address ${JSON.stringify(address)} is not host:port`);
    }
    this.options = Object.freeze({ ...options });
    this.#log = (options.logger ?? pino({ level: 'warn' }, pino.destination(2))).child({ component: 'peer' });
  }

  get id(): string {
    return this.#state().identity.id;
  }

  get fingerprint(): string {
    return this.#state().identity.fingerprint;
  }

  get greetingPort(): number {
    return this.#state().greetingPort;
  }

  get securePort(): number {
    return this.#state().securePort;
  }

  get isRunning(): boolean {
    return this.#running !== null;
  }

  /** Starts the peer; safe to call twice. */
  start(): Promise<void> {
    if (this.#running) return Promise.resolve();
    this.#starting ??= this.#start().finally(() => {
      this.#starting = null;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    const o = this.options;
    const identity = await loadOrCreateIdentity(o.dataDir);
    const log = this.#log.child({ peerId: identity.id });
    const storePath = join(o.dataDir, 'messages.db');
    const store = new MessageStore(storePath, o.sync ?? 'normal');
    const checkpointer = new Checkpointer(storePath, log, () => store.checkpointOnCommit(true));
    store.checkpointOnCommit(false);
    checkpointer.start();
    const credentials = new PeerServerCredentials(identity);
    const book = new PeerBook(identity, store, credentials);
    const registry = new SessionRegistry(identity.id);
    const greetingServer = new grpc.Server();
    const secureServer = new grpc.Server({
      'grpc.max_receive_message_length': this.maxFrameBytes,
      'grpc.keepalive_time_ms': 20_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
    });
    const host = o.listenHost ?? '0.0.0.0';
    let greetingPort: number;
    let securePort: number;
    try {
      greetingPort = await bindServer(
        greetingServer,
        host,
        o.greetingPort ?? 0,
        grpc.ServerCredentials.createInsecure(),
        'greeting',
      );
      securePort = await bindServer(secureServer, host, o.securePort ?? 0, credentials, 'secure');
    } catch (err) {
      greetingServer.forceShutdown();
      secureServer.forceShutdown();
      await checkpointer.stop();
      store.close();
      throw err;
    }
    const ownRecord = signIdentityRecord(identity, {
      name: o.name,
      addresses: o.advertisedAddresses ?? [],
      greetingPort,
      securePort,
      protocolVersion: PROTOCOL_VERSION,
    });
    const running: Running = {
      identity,
      store,
      checkpointer,
      book,
      registry,
      writer: new OutboxWriter(store, (messages) => {
        for (const peerId of new Set(messages.map((m) => m.peerId))) {
          running.links.get(peerId)?.enqueue(messages.filter((m) => m.peerId === peerId));
        }
      }),
      dialer: new Dialer(
        { identity, book, registry, greetRequest: () => this.#greetRequest(), log },
        { minDelayMs: o.reconnectMinDelayMs, maxDelayMs: o.reconnectMaxDelayMs },
      ),
      clock: new LamportClock(store.maxLamport()),
      ids: new UlidGenerator(store.maxOwnId()),
      links: new Map(),
      greetingServer,
      secureServer,
      greetingPort,
      securePort,
      ownRecord,
      abort: new AbortController(),
    };
    greetingServer.addService(
      GreetingServiceService,
      greetingService({
        ownRecord: () => running.ownRecord,
        knownPeers: () => this.#knownPeers(),
        greeted: (record, observedHost) => {
          const isNew = !book.get(record.id);
          book.learn(record, observedHost ? [observedHost] : []);
          running.dialer.want(record.id);
          if (isNew) this.#emitPeer(record.id);
        },
      }),
    );
    secureServer.addService(messagingServiceDefinition, { session: sessionHandler(book, registry) });
    this.#running = running;
    registry.on('opened', (session) => {
      const link = new PeerLink(session, this.#inboundContext(running, log), this.#linkListener());
      running.links.set(session.peerId, link);
      link.start();
      book.touch(session.peerId);
      log.info({ remotePeerId: session.peerId, initiator: session.initiator }, 'session open');
      this.#emitPeer(session.peerId);
    });
    registry.on('closed', (session) => {
      // A replacing session is registered only after the old one closed.
      if (!registry.get(session.peerId)) running.links.delete(session.peerId);
      if (this.#running) book.touch(session.peerId);
      log.info({ remotePeerId: session.peerId }, 'session closed');
      if (this.#running) this.#emitPeer(session.peerId);
    });
    running.dialer.start();
    for (const peer of book.all()) running.dialer.want(peer.id);
    for (const address of o.staticPeers ?? []) void this.#keepContacting(address, running.abort.signal);
    log.info({ greetingPort, securePort, name: o.name }, 'peer started');
  }

  /** Stops the peer: pending sends are written, sessions closed, ports released. Safe twice. */
  async stop(): Promise<void> {
    await this.#starting?.catch(() => {});
    const running = this.#running;
    if (!running) return;
    this.#running = null;
    running.abort.abort();
    running.dialer.stop();
    running.writer.flush();
    running.registry.closeAll();
    await Promise.all([
      shutdownServer(running.secureServer, SHUTDOWN_GRACE_MS),
      shutdownServer(running.greetingServer, SHUTDOWN_GRACE_MS),
    ]);
    await running.checkpointer.stop();
    running.store.close();
    this.#log.info('peer stopped');
  }

  /**
   * Accepts a message for a peer: once this resolves it is on disk and will be delivered,
   * across restarts of either side, exactly once.
   */
  async send(peerId: string, text: string): Promise<MessageRecord> {
    const running = this.#state();
    running.book.require(peerId);
    const bytes = Buffer.byteLength(text);
    if (bytes > this.maxMessageBytes) {
      throw new MessageTooLargeError(`message is ${bytes} bytes; the limit is ${this.maxMessageBytes}`);
    }
    const now = Date.now();
    const message = {
      id: running.ids.next(now),
      senderId: running.identity.id,
      peerId,
      conversationId: directConversationId(running.identity.id, peerId),
      lamport: running.clock.tick(),
      sentAtMs: now,
      text,
    };
    await running.writer.write(message);
    this.emit('state', { messageId: message.id, peerId, state: 'queued' });
    return { ...message, outgoing: true, receivedAtMs: null, state: 'queued', stateAtMs: now, error: null };
  }

  /** The last `limit` messages with a peer, oldest first, in the order both sides agree on. */
  history(peerId: string, limit = 100): MessageRecord[] {
    const running = this.#state();
    const records = running.store.history(directConversationId(running.identity.id, peerId), limit);
    const link = running.links.get(peerId);
    for (const record of records) {
      if (record.state === 'queued' && link?.isInFlight(record.id)) record.state = 'sent';
    }
    return records;
  }

  /** Marks everything from a peer as read and tells the peer; returns how many were newly read. */
  markRead(peerId: string): number {
    const running = this.#state();
    const ids = running.store.markIncomingRead(peerId);
    running.links.get(peerId)?.sendReadReceipts(ids);
    return ids.length;
  }

  /** The open sessions: with whom, and which side opened each. */
  sessions(): { peerId: string; initiator: 'local' | 'remote'; openedAtMs: number }[] {
    return this.#state()
      .registry.all()
      .filter((session) => session.isOpen)
      .map(({ peerId, initiator, openedAtMs }) => ({ peerId, initiator, openedAtMs }));
  }

  /** How many of this peer's messages wait for delivery. */
  outboxSize(): number {
    return this.#state().store.outboxSize();
  }

  peers(): PeerSummary[] {
    const running = this.#state();
    return running.book.all().map((peer) => this.#summary(running, peer));
  }

  /** Greets a peer at its greeting address ("host:port") and keeps a session with it. */
  async contact(address: string, options: CallOptions = {}): Promise<PeerSummary> {
    const running = this.#state();
    const target = parseHostPort(address);
    if (!target) throw new ConfigError(`peer address ${JSON.stringify(address)} is not host:port`);
    const result = await greet(hostPort(target.host, target.port), this.#greetRequest(), undefined, options);
    const isNew = !running.book.get(result.identity.id);
    const peer = running.book.learn(result.identity, [target.host]);
    running.dialer.want(peer.id);
    if (isNew) this.#emitPeer(peer.id);
    return this.#summary(running, peer);
  }

  get maxMessageBytes(): number {
    return this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** Largest frame accepted on the secure port: one full message plus room for its envelope. */
  get maxFrameBytes(): number {
    return Math.max(4 * 1024 * 1024, this.maxMessageBytes + 64 * 1024);
  }

  async #keepContacting(address: string, signal: AbortSignal): Promise<void> {
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        await this.contact(address, { signal, timeoutMs: 3_000 });
        return;
      } catch (err) {
        if (signal.aborted) return;
        this.#log.debug({ address, err: (err as Error).message }, 'static peer not reachable yet');
        await new Promise((resolve) =>
          setTimeout(
            resolve,
            backoffDelay(attempt, {
              minDelayMs: this.options.reconnectMinDelayMs,
              maxDelayMs: this.options.reconnectMaxDelayMs,
            }),
          ),
        );
      }
    }
  }

  #state(): Running {
    if (!this.#running) throw new PeerStoppedError('the peer is not running: start() it first');
    return this.#running;
  }

  #greetRequest(): GreetRequest {
    return { identity: this.#state().ownRecord, knownPeers: this.#knownPeers() };
  }

  #knownPeers(): KnownPeer[] {
    return this.#state()
      .book.all()
      .slice(0, MAX_KNOWN_PEERS_SHARED)
      .map((peer) => ({
        id: peer.id,
        name: peer.name,
        addresses: peer.addresses,
        greetingPort: peer.greetingPort,
        securePort: peer.securePort,
        lastSeenMs: peer.lastSeenMs,
      }));
  }

  #inboundContext(running: Running, log: Logger): InboundContext {
    return {
      localId: running.identity.id,
      maxMessageBytes: this.maxMessageBytes,
      store: running.store,
      book: running.book,
      clock: running.clock,
      log,
    };
  }

  #linkListener(): LinkListener {
    return {
      incoming: (records) => {
        for (const record of records) this.emit('message', record);
      },
      states: (peerId, ids, state, error) => {
        for (const messageId of ids) this.emit('state', { messageId, peerId, state, ...(error ? { error } : {}) });
      },
    };
  }

  #summary(running: Running, peer: StoredPeer): PeerSummary {
    return {
      id: peer.id,
      name: peer.name,
      fingerprint: fingerprintOf(peer.signingKey),
      online: running.registry.get(peer.id)?.isOpen ?? false,
      lastSeenMs: peer.lastSeenMs,
      unread: running.store.unreadCount(peer.id),
      addresses: peer.addresses,
    };
  }

  #emitPeer(peerId: string): void {
    const running = this.#running;
    const peer = running?.book.get(peerId);
    if (running && peer) this.emit('peer', this.#summary(running, peer));
  }
}
