import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import { verifyIdentityRecord } from '@p2p-messenger/peer';
import type {
  FederationClient,
  GreetRequest,
  GreetResponse,
  LinkMessage,
  PeerIdentity,
  RouteUpdate,
} from '@p2p-messenger/proto';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { FederationRelay, RelayEgress, RemoteRoute, SeamCallOptions } from '../relay-seam.js';
import { type BridgeIdentity, loadBridgeIdentity } from './bridge-identity.js';
import { checkConfig, type FederationInit } from './federation-config.js';
import { FederationListener } from './federation-listener.js';
import { type DoorRefusal, federationService } from './federation-service.js';
import { LinkDialer } from './link-dialer.js';
import { LinkSession } from './link-session.js';
import type { LinkState } from './link-state.js';
import { FederationMetrics, type FederationRefusal } from './metrics.js';
import { type ActiveLink, RelayRouter } from './relay-router.js';
import { type LinkOutput, type RemoteChange, RouteTable, type TableDelta } from './route-table.js';

export type { FederationInit } from './federation-config.js';

export interface FederationEvents {
  /** Remote peers reachable through us changed (already passed to the local network). */
  remoteChanged: [changes: RemoteChange[]];
  linkState: [state: LinkState];
  /** A link's other end sent its whole table (the end of its initial exchange). */
  linkSynced: [bridgeId: string];
}

/**
 * The bridge's federation: its identity, the listener for trusted bridges, a dialer per
 * bridge it joins, the route table between the local network and the links, and the relay
 * routing the relay side uses (FederationRelay) and serves (RelayEgress).
 */
export class Federation extends EventEmitter<FederationEvents> implements FederationRelay {
  readonly #init: FederationInit;
  readonly #log: Logger;
  readonly metrics: FederationMetrics;
  readonly #trusted: Set<string>;
  readonly #links = new Map<string, ActiveLink>();
  readonly #listenerStates = new Map<string, LinkState>();
  readonly #dialers: LinkDialer[] = [];
  #egress: RelayEgress | null;
  #identity: BridgeIdentity | null = null;
  #table: RouteTable | null = null;
  #router: RelayRouter | null = null;
  #listener: FederationListener | null = null;
  #port = 0;
  #running = false;
  readonly #onLocalFound = (record: PeerIdentity) => this.#local(record);
  readonly #onLocalLost = (peerId: string) => this.#apply(this.#routes().removeLocal(peerId));

  constructor(init: FederationInit) {
    super();
    this.#init = init;
    this.#log = init.log.child({ component: 'federation' });
    this.metrics = new FederationMetrics(init.registry ?? new Registry());
    this.#trusted = new Set(init.trust ?? []);
    this.#egress = init.egress ?? null;
    checkConfig(init);
  }

  /** This bridge's id (after start). */
  get id(): string {
    if (!this.#identity) throw new Error('the federation has not started');
    return this.#identity.id;
  }

  /** The federation port actually bound (0 when not listening). */
  get port(): number {
    return this.#port;
  }

  setEgress(egress: RelayEgress): void {
    this.#egress = egress;
  }

  /** Loads the identity, listens, learns the local peers and dials the bridges it joins. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      await this.#start();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async #start(): Promise<void> {
    const identity = await loadBridgeIdentity(this.#init.dataDir, this.#init.name ?? 'bridge');
    this.#identity = identity;
    const table = new RouteTable(identity.id);
    this.#table = table;
    this.#router = new RelayRouter({
      table,
      link: (bridgeId) => this.#links.get(bridgeId),
      egress: () => this.#egress,
      refused: (reason) => this.#refused(reason),
      log: this.#log,
    });
    if (this.#init.listen) await this.#listen(this.#init.listen);
    const network = this.#init.localNetwork;
    network.on('localFound', this.#onLocalFound);
    network.on('localUpdated', this.#onLocalFound);
    network.on('localLost', this.#onLocalLost);
    await network.start();
    for (const record of network.peers()) this.#local(record);
    for (const target of this.#init.join ?? []) {
      const dialer = new LinkDialer({
        identity: identity.identity,
        target,
        log: this.#log,
        backoff: this.#init.backoff,
        handshakeTimeoutMs: this.#init.handshakeTimeoutMs,
        keepalive: this.#init.keepalive,
        onSession: (session, client) => this.#linkUp(session, client),
        onState: (state) => this.emit('linkState', state),
      });
      this.#dialers.push(dialer);
      dialer.start();
    }
    this.#log.info({ bridgeId: identity.id, port: this.#port, joins: this.#dialers.length }, 'federation started');
  }

  /**
   * Withdraws what we advertised locally, closes every link (the other bridges withdraw what
   * came through us) and the listener. Safe to call twice.
   */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    const network = this.#init.localNetwork;
    network.off('localFound', this.#onLocalFound);
    network.off('localUpdated', this.#onLocalFound);
    network.off('localLost', this.#onLocalLost);
    network.withdraw(this.remotePeers().map((route) => route.peerId));
    await Promise.all(this.#dialers.map((dialer) => dialer.stop()));
    this.#dialers.length = 0;
    const links = [...this.#links.values()];
    this.#links.clear();
    this.metrics.linksUp.set(0);
    for (const link of links) link.session.close();
    // Nothing is reachable through a stopped bridge: queries answer empty from now on.
    if (this.#identity) this.#table = new RouteTable(this.#identity.id);
    await network.stop();
    await this.#listener?.close();
    this.#listener = null;
    this.#log.info('federation stopped');
  }

  linkStates(): LinkState[] {
    return [...this.#dialers.map((dialer) => dialer.state), ...this.#listenerStates.values()];
  }

  remotePeers(): RemoteRoute[] {
    return this.#table?.remotePeers() ?? [];
  }

  routeTo(targetPeerId: string): RemoteRoute | null {
    return this.#table?.routeTo(targetPeerId) ?? null;
  }

  localPeer(peerId: string): PeerIdentity | null {
    return this.#table?.localPeer(peerId) ?? null;
  }

  openRelay(targetPeerId: string, options?: SeamCallOptions): Promise<Duplex> {
    return this.#relay().openRelay(targetPeerId, options);
  }

  relayGreeting(targetPeerId: string, request: GreetRequest, options?: SeamCallOptions): Promise<GreetResponse> {
    return this.#relay().relayGreeting(targetPeerId, request, options);
  }

  relayIdentify(targetPeerId: string, options?: SeamCallOptions): Promise<PeerIdentity> {
    return this.#relay().relayIdentify(targetPeerId, options);
  }

  async #listen(listen: { host: string; port: number }): Promise<void> {
    const identity = this.#identity as BridgeIdentity;
    const service = federationService({
      ownRecord: () => identity.record(this.#port),
      isTrusted: (bridgeId) => this.#trusted.has(bridgeId),
      acceptLink: (bridgeId, call) => this.#acceptLink(bridgeId, call),
      acceptRelay: (bridgeId, call) => this.#relay().acceptRelay(bridgeId, call),
      refused: (reason, bridgeId, from) => this.#doorRefused(reason, bridgeId, from),
    });
    const listener = new FederationListener(identity.identity, service, this.#init.keepalive);
    this.#listener = listener;
    this.#port = await listener.listen(listen);
  }

  #acceptLink(bridgeId: string, call: grpc.ServerDuplexStream<LinkMessage, LinkMessage>): void {
    const session = new LinkSession({ localId: this.id, remoteId: bridgeId, role: 'listener', call, log: this.#log });
    session.ready(this.#init.handshakeTimeoutMs ?? 5_000).then(
      () => {
        if (!this.#running) return session.close();
        if (this.#linkUp(session, null)) this.#setListenerState(bridgeId, { up: true, lastError: null });
      },
      (err: Error) => {
        this.#log.warn({ err, bridgeId }, 'incoming link failed before its hello');
        session.close();
      },
    );
  }

  /**
   * A link came up (either side): it replaces any older link to the same bridge, except the
   * one kept when both bridges dial each other. Answers whether the link was taken.
   */
  #linkUp(session: LinkSession, client: FederationClient | null): boolean {
    const bridgeId = session.remoteId;
    const older = this.#links.get(bridgeId);
    if (older && older.session.role !== session.role) {
      // Both bridges join each other: one link is enough, the one the lower id dialed (both
      // ends decide alike). The other dialer keeps trying, slowly, and is refused the same way.
      const keptRole = this.id < bridgeId ? 'dialer' : 'listener';
      if (older.session.role === keptRole) {
        this.#log.debug({ bridgeId }, 'second link to the same bridge closed: the one the lower id dialed stays');
        session.close();
        return false;
      }
    }
    if (older) {
      this.#links.delete(bridgeId);
      this.#apply(this.#routes().linkDown(bridgeId));
      older.session.close();
    }
    const link: ActiveLink = { bridgeId, session, client };
    this.#links.set(bridgeId, link);
    this.metrics.linksUp.set(this.#links.size);
    session.on('update', (update) => this.#received(bridgeId, update));
    session.on('request', (request) => this.#relay().handleRequest(link, request));
    session.on('openRelay', (message) => this.#relay().handleOpenRelay(link, message));
    session.once('closed', (err) => {
      if (!this.#running || this.#links.get(bridgeId) !== link) return;
      this.#links.delete(bridgeId);
      this.metrics.linksUp.set(this.#links.size);
      this.metrics.linkDrops.inc();
      this.#log.info({ bridgeId, err }, 'link down');
      if (!client) this.#setListenerState(bridgeId, { up: false, lastError: err?.message ?? 'closed' });
      this.#apply(this.#routes().linkDown(bridgeId));
    });
    const delta = this.#routes().linkUp(bridgeId);
    const initial = delta.outbound.get(bridgeId) ?? { adverts: [], withdrawn: [] };
    delta.outbound.delete(bridgeId);
    session.sendUpdate({ ...toUpdate(initial), initialDone: true });
    this.#apply(delta);
    session.activate();
    return true;
  }

  #received(bridgeId: string, update: RouteUpdate): void {
    const table = this.#routes();
    for (const advert of update.adverts) {
      try {
        const record = verifyIdentityRecord(advert.record);
        this.#apply(table.advert(bridgeId, { record, path: advert.path }));
      } catch (err) {
        this.#refused('bad-advert');
        this.#log.warn({ err, bridgeId, peerId: advert.record?.id }, 'advert refused');
      }
    }
    for (const peerId of update.withdrawn) this.#apply(table.withdraw(bridgeId, peerId));
    if (update.initialDone) this.emit('linkSynced', bridgeId);
  }

  #local(record: PeerIdentity): void {
    try {
      this.#apply(this.#routes().setLocal(verifyIdentityRecord(record)));
    } catch (err) {
      this.#refused('bad-advert');
      this.#log.warn({ err, peerId: record.id }, 'local peer record refused');
    }
  }

  /** Sends a table delta: updates to links, remote changes to the local network. */
  #apply(delta: TableDelta): void {
    for (const [bridgeId, output] of delta.outbound) this.#links.get(bridgeId)?.session.sendUpdate(toUpdate(output));
    const table = this.#routes();
    this.metrics.localPeers.set(table.localPeers().length);
    if (delta.remote.length === 0) return;
    const network = this.#init.localNetwork;
    const advertised: RemoteRoute[] = [];
    const withdrawn: string[] = [];
    for (const change of delta.remote) {
      if (change.kind === 'removed') withdrawn.push(change.peerId);
      else advertised.push(change.route);
    }
    if (advertised.length > 0) network.advertise(advertised);
    if (withdrawn.length > 0) network.withdraw(withdrawn);
    this.metrics.remotePeers.set(table.remotePeers().length);
    this.emit('remoteChanged', delta.remote);
  }

  #routes(): RouteTable {
    if (!this.#table) throw new Error('the federation has not started');
    return this.#table;
  }

  #relay(): RelayRouter {
    if (!this.#router) throw new Error('the federation has not started');
    return this.#router;
  }

  #setListenerState(bridgeId: string, change: Pick<LinkState, 'up' | 'lastError'>): void {
    const state: LinkState = { bridgeId, role: 'listener', attempts: 0, sinceMs: Date.now(), ...change };
    this.#listenerStates.set(bridgeId, state);
    this.emit('linkState', state);
  }

  #doorRefused(reason: DoorRefusal, bridgeId: string | null, from: string): void {
    this.#refused(reason);
    this.#log.warn({ reason, bridgeId, from }, 'federation call refused');
  }

  #refused(reason: FederationRefusal): void {
    this.metrics.refusals.inc({ reason });
  }
}

function toUpdate(output: LinkOutput): RouteUpdate {
  return {
    adverts: output.adverts.map((advert) => ({ record: advert.record, path: [...advert.path] })),
    withdrawn: output.withdrawn,
    initialDone: false,
  };
}
