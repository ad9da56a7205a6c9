import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import type { MulticastStats } from '@p2p-messenger/discovery';
import pino, { type Logger } from 'pino';
import { ConfigError, MessageTooLargeError, PeerStoppedError, PeerUnreachableError } from './errors.js';
import { MAX_NAME_LENGTH } from './identity/identity-record.js';
import { fingerprintOf } from './identity/peer-id.js';
import type { PeerEvents, PeerSelf, PeerStatus, PeerSummary, SessionInfo } from './peer-api.js';
import { type PeerOptions, type ResolvedPeerOptions, resolvePeerOptions } from './peer-options.js';
import { PeerRuntime } from './runtime.js';
import { directConversationId, type MessageRecord, type StoredPeer } from './store/records.js';
import type { GreetResult } from './transport/greeting.js';
import { pathKey } from './transport/session-path.js';
import { parseHostPort } from './util/address.js';
import type { CallOptions } from './util/deadline.js';
import { PeerWebServer } from './web/web-server.js';

/** What a summary shows of a peer: a met one's record, or an unmet one's announcement. */
type KnownFacts = Pick<StoredPeer, 'id' | 'name' | 'signingKey' | 'addresses' | 'lastSeenMs'>;

export type {
  PeerEvents,
  PeerSelf,
  PeerStatus,
  PeerSummary,
  SessionInfo,
  SessionPath,
  StateChange,
} from './peer-api.js';
export { DEFAULT_MAX_MESSAGE_BYTES, type PeerOptions } from './peer-options.js';

/**
 * A messenger peer: its identity, its durable store, the two ports other peers talk to, and
 * the sessions it keeps with the peers it knows. Start it, send and read messages, stop it.
 */
export class Peer extends EventEmitter<PeerEvents> {
  readonly options: Readonly<ResolvedPeerOptions>;
  readonly #log: Logger;
  /** What the peer's parts log through, each as its own component (a key only once per line). */
  readonly #rootLog: Logger;
  #runtime: PeerRuntime | null = null;
  #web: PeerWebServer | null = null;
  #starting: Promise<void> | null = null;
  /** The status and sources last reported per peer in a 'peer' event. */
  readonly #reported = new Map<string, string>();

  constructor(options: PeerOptions) {
    super();
    this.options = resolvePeerOptions(options);
    this.#rootLog = options.logger ?? pino({ level: 'warn' }, pino.destination(2));
    this.#log = this.#rootLog.child({ component: 'peer' });
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

  /** The owner's web server's port, or null when it is off. */
  get webPort(): number | null {
    return this.#web?.port ?? null;
  }

  /** A one-time login path for the owner ("/login?token=..."), or null without a web server. */
  loginPath(): string | null {
    return this.#web ? `/login?token=${this.#web.access.loginLink()}` : null;
  }

  get maxMessageBytes(): number {
    return this.options.maxMessageBytes;
  }

  get isRunning(): boolean {
    return this.#runtime !== null;
  }

  /** Who this peer is and where it listens. */
  self(): PeerSelf {
    const runtime = this.#state();
    return {
      id: runtime.identity.id,
      name: runtime.name,
      fingerprint: runtime.identity.fingerprint,
      listenHost: this.options.listenHost,
      greetingPort: runtime.greetingPort,
      securePort: runtime.securePort,
    };
  }

  /**
   * Shows `name` to other peers from now on, also after restarts (the owner's choice wins over
   * the configured name); the peers it knows hear of it at once.
   */
  async rename(name: string): Promise<void> {
    const trimmed = name.trim();
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
    if (!trimmed || trimmed.length > MAX_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(trimmed)) {
      throw new ConfigError(`a name has 1 to ${MAX_NAME_LENGTH} characters, none of them control characters`);
    }
    await this.#state().rename(trimmed);
  }

  /** Starts the peer; safe to call twice. */
  start(): Promise<void> {
    if (this.#runtime) return Promise.resolve();
    this.#starting ??= this.#start().finally(() => {
      this.#starting = null;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    this.#runtime = await PeerRuntime.start(this.options, this.#rootLog, {
      incoming: (records) => {
        for (const record of records) this.emit('message', record);
      },
      states: (peerId, ids, state, error) => {
        for (const messageId of ids) this.emit('state', { messageId, peerId, state, ...(error ? { error } : {}) });
      },
      peerChanged: (peerId) => this.#emitPeer(peerId),
    });
    if (this.options.web) {
      const web = new PeerWebServer(this, this.options.web, this.#rootLog);
      try {
        await web.listen(this.options.web);
      } catch (err) {
        await this.#runtime.stop();
        this.#runtime = null;
        throw err;
      }
      this.#web = web;
    }
  }

  /** Stops the peer: pending sends are written, sessions closed, ports released. Safe twice. */
  async stop(): Promise<void> {
    await this.#starting?.catch(() => {});
    const runtime = this.#runtime;
    if (!runtime) return;
    await this.#web?.close();
    this.#web = null;
    this.#runtime = null;
    await runtime.stop();
    this.#log.info('peer stopped');
  }

  /**
   * Accepts a message for a peer: once this resolves it is on disk and will be delivered,
   * across restarts of either side, exactly once.
   */
  async send(peerId: string, text: string): Promise<MessageRecord> {
    const runtime = this.#state();
    // A peer shown from its announcement alone is being greeted: its record comes with the answer.
    if (!runtime.book.get(peerId)) await runtime.discovery.meet(peerId);
    runtime.book.require(peerId);
    const bytes = Buffer.byteLength(text);
    if (bytes > this.maxMessageBytes) {
      throw new MessageTooLargeError(`message is ${bytes} bytes; the limit is ${this.maxMessageBytes}`);
    }
    const now = Date.now();
    const id = runtime.ids.next(now);
    const senderId = runtime.identity.id;
    const conversationId = directConversationId(senderId, peerId);
    const lamport = runtime.clock.tick();
    // `seq` is set once stored; declared up front so the object keeps one shape.
    await runtime.writer.write({ id, senderId, peerId, conversationId, lamport, sentAtMs: now, text, seq: undefined });
    this.emit('state', { messageId: id, peerId, state: 'queued' });
    runtime.dialer.want(peerId);
    return {
      id,
      senderId,
      peerId,
      conversationId,
      outgoing: true,
      lamport,
      sentAtMs: now,
      receivedAtMs: null,
      text,
      state: 'queued',
      stateAtMs: now,
      error: null,
    };
  }

  /** The last `limit` messages with a peer, oldest first, in the order both sides agree on. */
  history(peerId: string, limit = 100): MessageRecord[] {
    const runtime = this.#state();
    const records = runtime.store.history(directConversationId(runtime.identity.id, peerId), limit);
    const link = runtime.links.get(peerId);
    for (const record of records) {
      if (record.state === 'queued' && link?.isInFlight(record.id)) record.state = 'sent';
    }
    return records;
  }

  /** Marks everything from a peer as read and tells the peer; returns how many were newly read. */
  markRead(peerId: string): number {
    const runtime = this.#state();
    const ids = runtime.store.markIncomingRead(peerId);
    const link = runtime.links.get(peerId);
    if (link) link.sendReadReceipts(ids);
    // No session: the receipts go in the resync of the next one, which this opens.
    else if (ids.length > 0) runtime.dialer.want(peerId);
    return ids.length;
  }

  /** The open sessions: with whom, and which side opened each. */
  sessions(): SessionInfo[] {
    return this.#state()
      .registry.all()
      .filter((session) => session.isOpen)
      .map(({ peerId, initiator, openedAtMs, path }) => ({ peerId, initiator, openedAtMs, path }));
  }

  /** What multicast discovery sent, received and dropped (null when it is off). */
  multicastStats(): MulticastStats | null {
    return this.#state().discovery.multicast?.stats() ?? null;
  }

  /** How many of this peer's messages wait for delivery. */
  outboxSize(): number {
    return this.#state().store.outboxSize();
  }

  peers(): PeerSummary[] {
    const runtime = this.#state();
    const met = runtime.book.all().map((peer) => this.#summary(runtime, peer));
    return [...met, ...runtime.discovery.unmetPeers().map((peer) => this.#summary(runtime, peer))];
  }

  /** Greets a peer at its greeting address ("host:port") and keeps a session with it. */
  async contact(address: string, options: CallOptions = {}): Promise<PeerSummary> {
    const runtime = this.#state();
    const target = parseHostPort(address);
    if (!target) throw new ConfigError(`peer address ${JSON.stringify(address)} is not host:port`);
    let result: GreetResult;
    try {
      result = await runtime.greetAt(target.host, target.port, undefined, options);
    } catch (err) {
      if ((err as Error).name === 'IdentityMismatchError') throw err;
      const reason = (err as Partial<grpc.StatusObject>).details ?? (err as Error).message;
      throw new PeerUnreachableError(
        `no peer answered at ${address} (${reason}): is it running, and is that its greeting port?`,
      );
    }
    const peer = runtime.learn(result.identity, [target.host], { connect: true });
    runtime.discovery.heardOf(result.knownPeers);
    return this.#summary(runtime, peer);
  }

  #state(): PeerRuntime {
    if (!this.#runtime) throw new PeerStoppedError('the peer is not running: start() it first');
    return this.#runtime;
  }

  #summary(runtime: PeerRuntime, peer: KnownFacts): PeerSummary {
    const session = runtime.registry.get(peer.id);
    const online = session?.isOpen ?? false;
    const { listed, sources } = runtime.discovery.sourcesOf(peer.id);
    const failing = runtime.dialer.isFailing(peer.id);
    // Listed by a directory counts as online (it announced itself, or its catalog health is
    // passing) until a dial to it fails.
    const status: PeerStatus = online || (listed && !failing) ? 'online' : listed ? 'unreachable' : 'offline';
    return {
      id: peer.id,
      name: peer.name,
      fingerprint: fingerprintOf(peer.signingKey),
      status,
      sources,
      online: status === 'online',
      lastSeenMs: peer.lastSeenMs,
      unread: runtime.store.unreadCount(peer.id),
      addresses: peer.addresses,
      path: online && session ? session.path : null,
    };
  }

  /** Emits a peer's summary when it is new to us or its status or sources changed. */
  #emitPeer(peerId: string): void {
    const runtime = this.#runtime;
    const peer = runtime && (runtime.book.get(peerId) ?? runtime.discovery.unmet(peerId));
    if (!runtime || !peer) return;
    const summary = this.#summary(runtime, peer);
    const key = `${summary.status} ${summary.sources.join()} ${summary.name} ${pathKey(summary.path)}`;
    if (this.#reported.get(peerId) === key) return;
    this.#reported.set(peerId, key);
    this.emit('peer', summary);
  }
}
