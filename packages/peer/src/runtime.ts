import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  GreetingServiceService,
  type GreetRequest,
  type KnownPeer,
  type PeerIdentity,
  PROTOCOL_VERSION,
} from '@p2p-messenger/proto';
import type { Logger } from 'pino';
import { PeerDiscovery } from './discovery/peer-discovery.js';
import { MAX_ADDRESSES, signIdentityRecord, withoutAddresses } from './identity/identity-record.js';
import { type LocalIdentity, loadOrCreateIdentity } from './identity/local-identity.js';
import { PeerBook } from './identity/peer-book.js';
import { readProfileName, writeProfileName } from './identity/profile.js';
import type { InboundContext } from './messaging/inbound.js';
import { LamportClock } from './messaging/lamport-clock.js';
import { OutboxWriter } from './messaging/outbox-writer.js';
import { type LinkListener, PeerLink } from './messaging/peer-link.js';
import type { ResolvedPeerOptions } from './peer-options.js';
import { Checkpointer } from './store/checkpointer.js';
import { MessageStore } from './store/message-store.js';
import type { StoredPeer } from './store/records.js';
import { Dialer } from './transport/dialer.js';
import { messagingServiceDefinition } from './transport/frame-codec.js';
import { type GreetResult, greet, greetingService } from './transport/greeting.js';
import { RouteBook } from './transport/route-book.js';
import { sessionHandler } from './transport/secure-server.js';
import { bindServer, shutdownServer } from './transport/servers.js';
import { GreetingPaths, pathKey } from './transport/session-path.js';
import { SessionRegistry } from './transport/session-registry.js';
import { PeerServerCredentials } from './transport/tls-credentials.js';
import { hostPort } from './util/address.js';
import type { CallOptions } from './util/deadline.js';
import { UlidGenerator } from './util/ulid.js';

/** What the running parts report to the Peer, which turns it into events. */
export interface RuntimeListener extends LinkListener {
  /** A peer was learned of, or its session opened or closed. */
  peerChanged(peerId: string): void;
}

const MAX_KNOWN_PEERS_SHARED = 64;
const SHUTDOWN_GRACE_MS = 2_000;
const GREET_TIMEOUT_MS = 3_000;

/**
 * Everything a started peer runs: identity, store, the two servers, the sessions and their
 * links, the dialer. Built by `start()`, released by `stop()`.
 */
export class PeerRuntime {
  readonly links = new Map<string, PeerLink>();
  readonly abort = new AbortController();
  readonly writer: OutboxWriter;
  readonly dialer: Dialer;
  readonly clock: LamportClock;
  readonly ids: UlidGenerator;
  readonly discovery: PeerDiscovery;
  /** Ways to peers through bridges, as the directories list them. */
  readonly routes = new RouteBook();
  /** The path each peer's latest greeting came by: its next session comes the same way. */
  readonly greetingPaths = new GreetingPaths();
  #ownRecord: PeerIdentity;
  /** The name it shows: configured, or the owner's (see rename). */
  #name: string;
  /** Its own lines (its parts log as components of their own, through `log`). */
  readonly #ownLog: Logger;

  private constructor(
    readonly options: Readonly<ResolvedPeerOptions>,
    readonly log: Logger,
    readonly identity: LocalIdentity,
    readonly store: MessageStore,
    readonly book: PeerBook,
    readonly registry: SessionRegistry,
    readonly greetingPort: number,
    readonly securePort: number,
    private readonly servers: { greeting: grpc.Server; secure: grpc.Server; checkpointer: Checkpointer },
    private readonly listener: RuntimeListener,
  ) {
    this.#name = options.name;
    this.#ownLog = log.child({ component: 'peer' });
    this.clock = new LamportClock(store.maxLamport());
    this.ids = new UlidGenerator(store.maxOwnId());
    this.#ownRecord = this.#signOwnRecord(options.advertisedAddresses);
    this.writer = new OutboxWriter(store, (messages) => {
      for (const peerId of new Set(messages.map((m) => m.peerId))) {
        this.links.get(peerId)?.enqueue(messages.filter((m) => m.peerId === peerId));
      }
    });
    this.dialer = new Dialer(
      {
        identity,
        book,
        registry,
        routes: this.routes,
        greetRequest: (targetId) => this.greetRequest(targetId),
        log,
        dialFailed: (peerId) => listener.peerChanged(peerId),
      },
      { minDelayMs: options.reconnectMinDelayMs, maxDelayMs: options.reconnectMaxDelayMs },
    );
    this.discovery = new PeerDiscovery(
      {
        identity,
        book,
        routes: this.routes,
        log,
        name: options.name,
        greetingPort,
        securePort,
        advertisedAddresses: options.advertisedAddresses,
        greetAt: (host, port, expectedId, callOptions) => this.greetAt(host, port, expectedId, callOptions),
        learn: (record, seenAt, connect) => this.learn(record, seenAt, { connect }),
        hurry: (peerId) => this.dialer.hurry(peerId),
        changed: (peerId) => listener.peerChanged(peerId),
        ownAddresses: (addresses) => {
          // Addresses given by the user win over what multicast taught us.
          if (options.advertisedAddresses.length === 0) this.#ownRecord = this.#signOwnRecord(addresses);
        },
      },
      options.discovery,
      options.staticPeers,
    );
  }

  get ownRecord(): PeerIdentity {
    return this.#ownRecord;
  }

  get name(): string {
    return this.#name;
  }

  /**
   * Shows another name from now on (kept in the data dir) and tells the peers it knows, by
   * greeting them with the new signed record.
   */
  async rename(name: string): Promise<void> {
    if (name === this.#name) return;
    await writeProfileName(this.options.dataDir, name);
    this.#name = name;
    this.#ownRecord = this.#signOwnRecord(this.#ownRecord.addresses);
    this.#ownLog.info({ shownName: name }, 'renamed');
    for (const peer of this.book.all()) {
      const host = peer.addresses[0];
      const route = this.routes.routes(peer.id)[0];
      if (host) void this.greetAt(host, peer.greetingPort, peer.id).catch(() => {});
      else if (route) void this.greetAt(route.host, route.greetingPort, peer.id).catch(() => {});
    }
  }

  #signOwnRecord(addresses: readonly string[]): PeerIdentity {
    return signIdentityRecord(this.identity, {
      name: this.#name,
      addresses: addresses.slice(0, MAX_ADDRESSES),
      greetingPort: this.greetingPort,
      securePort: this.securePort,
      protocolVersion: PROTOCOL_VERSION,
    });
  }

  /** Greets host:port (expecting `expectedId`, if given); the answer is verified, not yet kept. */
  greetAt(host: string, port: number, expectedId?: string, options: CallOptions = {}): Promise<GreetResult> {
    const signals = [this.abort.signal, ...(options.signal ? [options.signal] : [])];
    return greet(hostPort(host, port), this.greetRequest(expectedId), expectedId, {
      timeoutMs: options.timeoutMs ?? GREET_TIMEOUT_MS,
      signal: AbortSignal.any(signals),
    });
  }

  static async start(configured: Readonly<ResolvedPeerOptions>, rootLog: Logger, listener: RuntimeListener) {
    const identity = await loadOrCreateIdentity(configured.dataDir);
    const ownersName = await readProfileName(configured.dataDir);
    const options = ownersName ? Object.freeze({ ...configured, name: ownersName }) : configured;
    const log = rootLog.child({ peerId: identity.id });
    const storePath = join(options.dataDir, 'messages.db');
    const store = new MessageStore(storePath, options.sync);
    const checkpointer = new Checkpointer(storePath, log, () => store.checkpointOnCommit('often'));
    const credentials = new PeerServerCredentials(identity);
    const book = new PeerBook(identity, store);
    const registry = new SessionRegistry(identity.id);
    const greeting = new grpc.Server();
    const secure = new grpc.Server({
      'grpc.max_receive_message_length': options.maxFrameBytes,
      'grpc.keepalive_time_ms': 20_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
    });
    let ports: [number, number];
    try {
      const insecure = grpc.ServerCredentials.createInsecure();
      ports = [
        await bindServer(greeting, options.listenHost, options.greetingPort, insecure, 'greeting'),
        await bindServer(secure, options.listenHost, options.securePort, credentials, 'secure'),
      ];
    } catch (err) {
      greeting.forceShutdown();
      secure.forceShutdown();
      await checkpointer.stop();
      store.close();
      throw err;
    }
    const runtime = new PeerRuntime(
      options,
      log,
      identity,
      store,
      book,
      registry,
      ports[0],
      ports[1],
      {
        greeting,
        secure,
        checkpointer,
      },
      listener,
    );
    runtime.#serve();
    try {
      await runtime.discovery.start();
    } catch (err) {
      await runtime.stop();
      throw err;
    }
    return runtime;
  }

  #serve(): void {
    const { book, registry, servers } = this;
    const log = this.#ownLog;
    servers.greeting.addService(
      GreetingServiceService,
      greetingService({
        ownRecord: () => this.ownRecord,
        knownPeers: () => this.knownPeers(),
        greeted: (record, observedHost, knownPeers, viaBridgeId) => {
          // The greeter dials us if it wants to talk; we connect only when we have something to say.
          // Through a bridge, the addresses it signed are of another network: none is kept.
          this.learn(viaBridgeId ? withoutAddresses(record) : record, observedHost ? [observedHost] : []);
          this.greetingPaths.greeted(record.id, viaBridgeId);
          // Peers passed on through a bridge are of the other network: their addresses mean nothing here.
          if (!viaBridgeId) this.discovery.heardOf(knownPeers);
        },
      }),
    );
    servers.secure.addService(messagingServiceDefinition(), {
      session: sessionHandler(book, registry, this.greetingPaths),
    });
    // The checkpoint thread costs memory an idle peer does not need: it starts with the first
    // session (until then commits checkpoint themselves, as SQLite does by default).
    registry.once('opened', () => {
      if (this.abort.signal.aborted) return;
      servers.checkpointer.start();
      this.store.checkpointOnCommit('rarely');
    });
    registry.on('opened', (session) => {
      const link = new PeerLink(session, this.#inboundContext(), this.listener);
      this.links.set(session.peerId, link);
      link.start();
      book.touch(session.peerId);
      log.info(
        { remotePeerId: session.peerId, initiator: session.initiator, path: pathKey(session.path) },
        'session open',
      );
      this.listener.peerChanged(session.peerId);
    });
    registry.on('closed', (session) => {
      // A replacing session is registered only after the old one closed.
      if (!registry.get(session.peerId)) this.links.delete(session.peerId);
      if (!this.abort.signal.aborted) book.touch(session.peerId);
      log.info({ remotePeerId: session.peerId }, 'session closed');
      // Let a replacing session register first, so that a replacement is not reported as
      // going offline and online again.
      setImmediate(() => this.listener.peerChanged(session.peerId));
    });
    this.dialer.start();
    for (const peerId of this.store.peersWithOutbox()) this.dialer.want(peerId);
    log.info({ greetingPort: this.greetingPort, securePort: this.securePort, shownName: this.#name }, 'peer started');
  }

  /**
   * Records a verified peer and reports it if it is new. Sessions open when there is
   * something to send or read receipts to give, or with `connect` (peers the user named):
   * on a LAN of fifty, nobody keeps forty-nine idle TLS sessions.
   */
  learn(record: PeerIdentity, seenAt: readonly string[], { connect = false } = {}): StoredPeer {
    const previousName = this.book.get(record.id)?.name;
    const peer = this.book.learn(record, seenAt);
    if (connect) this.dialer.want(peer.id);
    if (previousName !== peer.name) this.listener.peerChanged(peer.id);
    return peer;
  }

  /** Our greeting, naming the peer we call when we know whom (a bridge routes it by that name). */
  greetRequest(targetId = ''): GreetRequest {
    return { identity: this.ownRecord, knownPeers: this.knownPeers(), targetId, viaBridgeId: '' };
  }

  knownPeers(): KnownPeer[] {
    return this.book
      .all()
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

  #inboundContext(): InboundContext {
    return {
      localId: this.identity.id,
      maxMessageBytes: this.options.maxMessageBytes,
      store: this.store,
      book: this.book,
      clock: this.clock,
      log: this.#ownLog,
    };
  }

  /** Pending sends are written, sessions closed, ports released. */
  async stop(): Promise<void> {
    // First, while the sockets still work: the goodbye and the deregistration go out.
    await this.discovery.stop();
    this.abort.abort();
    this.dialer.stop();
    this.writer.flush();
    this.registry.closeAll();
    await Promise.all([
      shutdownServer(this.servers.secure, SHUTDOWN_GRACE_MS),
      shutdownServer(this.servers.greeting, SHUTDOWN_GRACE_MS),
    ]);
    await this.servers.checkpointer.stop();
    this.store.close();
  }
}
