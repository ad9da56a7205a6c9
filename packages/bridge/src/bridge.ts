import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { loadBridgeIdentity } from './federation/bridge-identity.js';
import { Federation } from './federation/federation.js';
import type { LinkKeepalive } from './federation/link-credentials.js';
import type { JoinTarget } from './federation/link-dialer.js';
import type { LocatingNetwork } from './local/locating-network.js';
import { GreetingRelay } from './relay/greeting-relay.js';
import { LocalEgress, locationOfRecord } from './relay/local-egress.js';
import { RelayLimits, type RelayLimitsInit } from './relay/relay-limits.js';
import { RelayListener } from './relay/relay-listener.js';
import { RelayStats } from './relay/relay-stats.js';
import { fromFederation, type RelayTargets } from './relay/relay-targets.js';

/** What the local network is made with, once the bridge knows its id and relay ports. */
export interface BridgeAccessPoint {
  bridgeId: string;
  greetingPort: number;
  securePort: number;
}

export interface BridgeInit {
  /** Where the bridge keeps its key pair. */
  dataDir: string;
  name?: string;
  /** The federation port other bridges link to; omit for a bridge that only dials out. */
  listen?: { host: string; port: number };
  trust?: readonly string[];
  join?: readonly JoinTarget[];
  keepalive?: LinkKeepalive;
  /** The ports this network's peers reach peers of other networks at (0: any free one). */
  relay: { host?: string; greetingPort?: number; securePort?: number; idleTimeoutMs?: number };
  /** Relays at once from this network's peers, and from other bridges into it. */
  limits?: RelayLimitsInit;
  network: (access: BridgeAccessPoint) => LocatingNetwork;
  log: Logger;
  registry?: Registry;
}

/**
 * A bridge: its federation with other bridges, the relay ports this network's peers use to
 * reach peers of other networks (greetings and TLS sessions, never read), the egress that
 * takes relays from other bridges to this network's peers, and the local network where it
 * learns its peers and re-advertises the others.
 */
export class Bridge {
  readonly federation: Federation;
  readonly network: LocatingNetwork;
  readonly stats: RelayStats;
  readonly #relay: RelayListener;
  readonly #greeting: GreetingRelay;

  private constructor(parts: {
    federation: Federation;
    network: LocatingNetwork;
    stats: RelayStats;
    relay: RelayListener;
    greeting: GreetingRelay;
  }) {
    this.federation = parts.federation;
    this.network = parts.network;
    this.stats = parts.stats;
    this.#relay = parts.relay;
    this.#greeting = parts.greeting;
  }

  /** Starts every part; if one cannot start, stops those already started and rethrows. */
  static async start(init: BridgeInit): Promise<Bridge> {
    const { log } = init;
    const name = init.name ?? 'bridge';
    // The id is needed before the federation starts: the network announces it.
    const identity = await loadBridgeIdentity(init.dataDir, name);
    const stats = new RelayStats();
    let federation: Federation | null = null;
    const targets = lazyTargets(() => federation);
    const relay = new RelayListener(
      { targets, limits: new RelayLimits(init.limits), stats, log },
      { host: init.relay.host, port: init.relay.securePort ?? 0, idleTimeoutMs: init.relay.idleTimeoutMs },
    );
    const greeting = new GreetingRelay(
      { targets, stats, ownRecord: () => identity.record(federation?.port ?? 0), log },
      { host: init.relay.host, port: init.relay.greetingPort ?? 0 },
    );
    try {
      await relay.start();
      await greeting.start();
      const network = init.network({
        bridgeId: identity.id,
        greetingPort: greeting.port,
        securePort: relay.port,
      });
      const started: Federation = new Federation({
        dataDir: init.dataDir,
        name,
        listen: init.listen,
        trust: init.trust,
        join: init.join,
        keepalive: init.keepalive,
        localNetwork: network,
        log,
        registry: init.registry,
      });
      started.setEgress(
        new LocalEgress({
          bridgeId: identity.id,
          locate: (peerId) => network.locate(peerId) ?? locationOfRecord(started.localPeer(peerId)),
          limits: new RelayLimits(init.limits),
          stats,
          log,
        }),
      );
      federation = started;
      await started.start();
      return new Bridge({ federation: started, network, stats, relay, greeting });
    } catch (err) {
      await greeting.stop();
      await relay.stop();
      throw err;
    }
  }

  get id(): string {
    return this.federation.id;
  }

  get relayPorts(): { greetingPort: number; securePort: number } {
    return { greetingPort: this.#greeting.port, securePort: this.#relay.port };
  }

  /** Withdraws what it advertised, closes its links and its relays. Safe to call twice. */
  async stop(): Promise<void> {
    await this.federation.stop();
    await this.#greeting.stop();
    await this.#relay.stop();
  }
}

/** The federation's targets, once there is a federation (none are advertised before). */
function lazyTargets(federation: () => Federation | null): RelayTargets {
  let targets: RelayTargets | null = null;
  const of = (): RelayTargets => {
    if (targets) return targets;
    const started = federation();
    if (!started) throw new Error('the bridge is still starting');
    targets = fromFederation(started);
    return targets;
  };
  return {
    advertised: (peerId) => federation()?.routeTo(peerId) != null,
    openRelay: (targetId, options) => of().openRelay(targetId, options),
    relayGreeting: (targetId, request, options) => of().relayGreeting(targetId, request, options),
    relayIdentify: (targetId, options) => of().relayIdentify(targetId, options),
  };
}
