import { type Logger, pino } from 'pino';
import { backoffDelay } from '../backoff.js';
import { DirectoryBase } from '../directory.js';
import { DiscoveryConfigError } from '../errors.js';
import type { LocalPeerInfo } from '../host.js';
import { type ConsulClient, isForgotten, openConsulWhile, parseAgent } from './consul-client.js';
import { ConsulPeerWatch } from './consul-peer-watch.js';
import { checkIdOf, DEFAULT_SERVICE_NAME, registrationFor } from './service-record.js';

export interface ConsulOptions {
  self: LocalPeerInfo;
  /** The Consul agent: "host:port" or "http(s)://host:port". */
  agent: string;
  /** The address other peers reach this peer at (registered as the service address). */
  advertiseAddress: string;
  serviceName?: string;
  /** Extra tags, for routing (e.g. a proxy's rules). */
  tags?: readonly string[];
  /** This peer's state as the catalog shows it (e.g. vacant or claimed). */
  state?: () => string;
  /** The health check's TTL; heartbeats go every third of it. */
  ttlMs?: number;
  /** Consul removes a registration whose check stayed critical this long. */
  reapAfterMs?: number;
  /** How long one blocking query may wait for a change. */
  watchWaitMs?: number;
  /**
   * A Consul KV prefix: given, only peers with a key `<prefix><peerId>` are listed, and nobody
   * while this peer has none (a dispatcher's spare peers: unseen, and seeing no one, until claimed).
   */
  visibleKeys?: string;
  retry?: { minDelayMs?: number; maxDelayMs?: number };
  log?: Logger;
}

/**
 * Peers in a Consul catalog: this peer registers itself as a service with a TTL health check
 * and heartbeats it, registers again whenever the agent lost it (an agent restart), retries
 * with backoff while Consul is down, deregisters on stop, and watches the healthy peers with
 * blocking queries.
 */
export class ConsulDirectory extends DirectoryBase {
  readonly source = 'consul' as const;
  readonly #options: ConsulOptions;
  readonly #log: Logger;
  readonly #serviceName: string;
  readonly #ttlMs: number;
  #client: ConsulClient | null = null;
  readonly #watch: ConsulPeerWatch;
  #timer: NodeJS.Timeout | null = null;
  #registered = false;
  #failures = 0;
  #running = false;
  #beating: Promise<void> = Promise.resolve();

  constructor(options: ConsulOptions) {
    super();
    parseAgent(options.agent);
    this.#options = options;
    this.#log = (options.log ?? pino({ level: 'silent' })).child({ directory: 'consul' });
    this.#serviceName = options.serviceName ?? DEFAULT_SERVICE_NAME;
    this.#ttlMs = options.ttlMs ?? 10_000;
    if (this.#ttlMs < 1_000) throw new DiscoveryConfigError('the Consul check TTL must be at least 1 s');
    this.#watch = new ConsulPeerWatch({
      serviceName: this.#serviceName,
      selfId: options.self.id,
      ...(options.visibleKeys === undefined ? {} : { visibleKeys: options.visibleKeys }),
      ...(options.watchWaitMs === undefined ? {} : { watchWaitMs: options.watchWaitMs }),
      ...(options.retry === undefined ? {} : { retry: options.retry }),
      log: this.#log,
    });
  }

  /** Whether the agent has our registration, as far as we know. */
  get registered(): boolean {
    return this.#registered;
  }

  /** Starts registering and watching; a Consul that is down is retried, never fatal. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.markStarted();
    this.#running = true;
    const client = await openConsulWhile(this.#options.agent, () => this.#running);
    if (!client) return;
    this.#client = client;
    await this.#heartbeat();
    if (!this.#running) return;
    this.#watch.start(client, {
      put: (peer) => this.put(peer),
      remove: (id, reason) => this.remove(id, reason),
      peers: () => this.peers(),
    });
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#watch.stop();
    await this.#beating;
    const client = this.#client;
    if (client && this.#registered) {
      await client.agent.service
        .deregister({ id: this.#options.self.id, timeout: 2_000 })
        .catch((err: unknown) => this.#log.warn({ err }, 'could not deregister from Consul'));
    }
    this.#registered = false;
    client?.destroy();
    this.#client = null;
    this.markStopped();
  }

  /** Registers if needed, else passes the check; schedules the next beat. */
  #heartbeat(): Promise<void> {
    this.#beating = this.#beat().finally(() => {
      if (!this.#running) return;
      const delay =
        this.#failures === 0
          ? this.#ttlMs / 3
          : backoffDelay(this.#failures - 1, this.#options.retry ?? { minDelayMs: 250, maxDelayMs: this.#ttlMs / 3 });
      this.#timer = setTimeout(() => void this.#heartbeat(), delay);
    });
    return this.#beating;
  }

  async #beat(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    try {
      if (!this.#registered) {
        await client.agent.service.register({ ...this.#registration(), timeout: 5_000 });
        this.#registered = true;
        this.#log.info({ service: this.#serviceName }, this.#failures > 0 ? 'registered again' : 'registered');
      }
      await client.agent.check.pass({ id: checkIdOf(this.#options.self.id), timeout: 5_000 });
      this.#failures = 0;
    } catch (err) {
      if (!this.#running) return;
      if (isForgotten(err)) {
        // Soon (the first backoff step), not at once: an agent that keeps forgetting must not spin us.
        this.#log.warn('Consul lost this peer (agent restarted?); registering again');
        this.#registered = false;
        this.#failures++;
        return;
      }
      if (this.#failures === 0) this.#log.warn({ err: (err as Error).message }, 'Consul unreachable; retrying');
      // After an outage the agent may have restarted without us: register again to be sure.
      this.#registered = false;
      this.#failures++;
    }
  }

  #registration() {
    return registrationFor(this.#options.self, {
      serviceName: this.#serviceName,
      address: this.#options.advertiseAddress,
      tags: this.#options.tags ?? [],
      state: this.#options.state?.() ?? 'active',
      ttlMs: this.#ttlMs,
      reapAfterMs: this.#options.reapAfterMs ?? 60_000,
    });
  }
}
