import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryBase, type DirectoryPeer, type RelayRoute } from '@p2p-messenger/discovery';
import { PROTOCOL_VERSION } from '@p2p-messenger/proto';
import pino from 'pino';
import { GreetingRelay } from '../../../bridge/src/relay/greeting-relay.js';
import { LocalEgress, type LocalPeerLocation } from '../../../bridge/src/relay/local-egress.js';
import { RelayLimits, type RelayLimitsInit } from '../../../bridge/src/relay/relay-limits.js';
import { RelayListener } from '../../../bridge/src/relay/relay-listener.js';
import { RelayStats } from '../../../bridge/src/relay/relay-stats.js';
import { fromEgress } from '../../../bridge/src/relay/relay-targets.js';
import { type LocalIdentity, loadOrCreateIdentity, signIdentityRecord } from '../../src/index.js';

/**
 * One bridge's relay on loopback, built from the bridge's own relay pieces: its greeting port
 * and its secure (relay) port, relaying to the peers the test lets it advertise, which its
 * egress reaches directly. Every byte it moves is kept in `captured`.
 */
export class LoopbackBridge {
  readonly stats = new RelayStats();
  readonly advertised = new Set<string>();
  readonly locations = new Map<string, LocalPeerLocation>();
  /** Every byte relayed, both ways, in order. */
  readonly captured: Buffer[] = [];
  readonly relay: RelayListener;
  readonly greeting: GreetingRelay;

  private constructor(
    readonly identity: LocalIdentity,
    private readonly dir: string,
    ports: { greetingPort: number; securePort: number },
    limits: RelayLimitsInit,
  ) {
    const log = pino({ level: 'silent' });
    const egress = new LocalEgress({
      bridgeId: identity.id,
      locate: (peerId) => this.locations.get(peerId) ?? null,
      limits: new RelayLimits(limits),
      stats: this.stats,
      log,
    });
    const targets = fromEgress(egress, (peerId) => this.advertised.has(peerId), identity.id);
    this.relay = new RelayListener(
      {
        targets,
        limits: new RelayLimits(limits),
        stats: this.stats,
        log,
        tap: (_direction, chunk) => this.captured.push(Buffer.from(chunk)),
      },
      { host: '127.0.0.1', port: ports.securePort },
    );
    this.greeting = new GreetingRelay(
      {
        targets,
        stats: this.stats,
        log,
        ownRecord: () =>
          signIdentityRecord(identity, {
            name: 'bridge',
            addresses: [],
            greetingPort: this.greeting.port,
            securePort: this.relay.port,
            protocolVersion: PROTOCOL_VERSION,
          }),
      },
      { host: '127.0.0.1', port: ports.greetingPort },
    );
  }

  static async start(
    ports: { greetingPort: number; securePort: number } = { greetingPort: 0, securePort: 0 },
    limits: RelayLimitsInit = {},
  ): Promise<LoopbackBridge> {
    const dir = await mkdtemp(join(tmpdir(), 'loopback-bridge-'));
    const bridge = new LoopbackBridge(await loadOrCreateIdentity(dir), dir, ports, limits);
    await bridge.relay.start();
    await bridge.greeting.start();
    return bridge;
  }

  get id(): string {
    return this.identity.id;
  }

  /** Relays to this peer (listening on loopback at these ports) from now on. */
  serve(peer: { id: string; greetingPort: number; securePort: number }): void {
    this.advertised.add(peer.id);
    this.locations.set(peer.id, { hosts: ['127.0.0.1'], greetingPort: peer.greetingPort, securePort: peer.securePort });
  }

  /** The route a directory lists for a peer this bridge serves. */
  route(): RelayRoute {
    return {
      bridgeId: this.id,
      host: '127.0.0.1',
      greetingPort: this.greeting.port,
      securePort: this.relay.port,
      hops: 1,
    };
  }

  /** Closes both ports and every relay (the bridge goes away); start() again on the same ports. */
  async pause(): Promise<void> {
    await this.relay.stop();
    await this.greeting.stop();
  }

  async resume(): Promise<void> {
    await this.relay.start();
    await this.greeting.start();
  }

  async stop(): Promise<void> {
    await this.pause();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A directory the test fills by hand: peers listed with bridge routes, with or without addresses. */
export class HandDirectory extends DirectoryBase {
  readonly source = 'static' as const;

  async start(): Promise<void> {
    this.markStarted();
  }

  async stop(): Promise<void> {
    this.markStopped();
  }

  list(
    peer: { id: string; name: string; greetingPort: number; securePort: number },
    relays: RelayRoute[],
    addresses: string[] = [],
  ) {
    const entry: DirectoryPeer = {
      id: peer.id,
      name: peer.name,
      addresses,
      greetingPort: peer.greetingPort,
      securePort: peer.securePort,
      protocolVersion: PROTOCOL_VERSION,
      knownPeerIds: [],
      sources: ['static'],
      lastSeenMs: Date.now(),
      relays,
    };
    this.put(entry);
  }
}
