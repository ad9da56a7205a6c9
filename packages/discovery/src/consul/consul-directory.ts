import { type Logger, pino } from 'pino';
import { backoffDelay } from '../backoff.js';
import { DirectoryBase } from '../directory.js';
import { DiscoveryConfigError } from '../errors.js';
import type { LocalPeerInfo } from '../host.js';
import {
  checkIdOf,
  DEFAULT_SERVICE_NAME,
  type HealthEntry,
  isPassing,
  peerFromHealthEntry,
  registrationFor,
} from './service-record.js';
import { VisibleKeys } from './visible-keys.js';

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

interface ConsulClient {
  agent: {
    service: { register(o: object): Promise<unknown>; deregister(o: object): Promise<unknown> };
    check: { pass(o: object): Promise<unknown> };
  };
  health: { service(o: object): Promise<unknown> };
  kv: { get(o: object): Promise<unknown> };
  watch(o: object): WatchHandle;
  destroy(): void;
}

interface WatchHandle {
  on(event: 'change', listener: (data: unknown) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  end(): void;
}

/** The agent answered that it does not know our check: it lost our registration. */
function isForgotten(err: unknown): boolean {
  const status = (err as { response?: { statusCode?: number } }).response?.statusCode;
  return status === 404 || (status === 500 && /TTL|unknown check/i.test((err as Error).message));
}

function parseAgent(agent: string): { host: string; port: number; secure: boolean } {
  const withScheme = /^https?:\/\//.test(agent) ? agent : `http://${agent}`;
  const url = URL.canParse(withScheme) ? new URL(withScheme) : null;
  if (!url?.hostname) {
    throw new DiscoveryConfigError(`not a Consul agent address: "${agent}" (expected host:port, e.g. 127.0.0.1:8500)`);
  }
  const secure = url.protocol === 'https:';
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || (secure ? 443 : 8500)), secure };
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
  #watch: WatchHandle | null = null;
  #timer: NodeJS.Timeout | null = null;
  #registered = false;
  #failures = 0;
  #running = false;
  #beating: Promise<void> = Promise.resolve();
  readonly #gate: VisibleKeys | null;
  /** With a gate: the peers that may be seen (this one among them), or null until known. */
  #visible: ReadonlySet<string> | null = null;
  #lastEntries: HealthEntry[] = [];

  constructor(options: ConsulOptions) {
    super();
    parseAgent(options.agent);
    this.#options = options;
    this.#log = (options.log ?? pino({ level: 'silent' })).child({ directory: 'consul' });
    this.#serviceName = options.serviceName ?? DEFAULT_SERVICE_NAME;
    this.#ttlMs = options.ttlMs ?? 10_000;
    if (this.#ttlMs < 1_000) throw new DiscoveryConfigError('the Consul check TTL must be at least 1 s');
    this.#gate =
      options.visibleKeys === undefined
        ? null
        : new VisibleKeys({
            prefix: options.visibleKeys,
            waitMs: options.watchWaitMs ?? 30_000,
            settleMs: 250,
            retry: { minDelayMs: options.retry?.minDelayMs ?? 100, maxDelayMs: options.retry?.maxDelayMs ?? 10_000 },
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
    const { host, port, secure } = parseAgent(this.#options.agent);
    // Loaded here, not with the package: peers that use no Consul do not carry its client.
    const { default: Consul } = await import('consul');
    if (!this.#running) return;
    this.#client = new Consul({ host, port, secure }) as unknown as ConsulClient;
    await this.#heartbeat();
    this.#startWatch();
    this.#startGate();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#watch?.end();
    this.#watch = null;
    this.#gate?.stop();
    this.#visible = null;
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

  /** Blocking queries on the service's health; the watch backs off on its own while Consul is down. */
  #startWatch(): void {
    const client = this.#client;
    if (!client) return;
    const watch = client.watch({
      method: (client.health.service as (o: object) => Promise<unknown>).bind(client.health),
      options: { service: this.#serviceName, wait: `${Math.ceil((this.#options.watchWaitMs ?? 30_000) / 1000)}s` },
      backoffFactor: this.#options.retry?.minDelayMs ?? 100,
      backoffMax: this.#options.retry?.maxDelayMs ?? 10_000,
    });
    let failing = false;
    watch.on('change', (data) => {
      failing = false;
      this.#apply(Array.isArray(data) ? (data as HealthEntry[]) : []);
    });
    watch.on('error', (err) => {
      if (!failing) this.#log.warn({ err: err.message }, 'watching Consul failed; retrying');
      failing = true;
    });
    this.#watch = watch;
  }

  /** With a gate: which peers may be seen follows the KV prefix; each change applies the last health answer again. */
  #startGate(): void {
    const client = this.#client;
    if (!client || !this.#gate) return;
    let failing = false;
    this.#gate.start(
      client,
      (ids) => {
        failing = false;
        this.#visible = ids;
        this.#apply(this.#lastEntries);
      },
      (err) => {
        if (!failing) this.#log.warn({ err: err.message }, 'watching who may be seen in Consul failed; retrying');
        failing = true;
      },
    );
  }

  /** Whether the gate (if any) lets this peer see that one. */
  #mayList(peerId: string): boolean {
    if (!this.#gate) return true;
    const visible = this.#visible;
    return visible?.has(this.#options.self.id) === true && visible.has(peerId);
  }

  #apply(entries: HealthEntry[]): void {
    if (!this.#running) return;
    this.#lastEntries = entries;
    const now = Date.now();
    const present = new Set<string>();
    const hidden = new Set<string>();
    for (const entry of entries) {
      const peer = peerFromHealthEntry(entry, now);
      if (!peer || peer.id === this.#options.self.id) continue;
      if (!this.#mayList(peer.id)) {
        hidden.add(peer.id);
        continue;
      }
      if (!isPassing(entry)) {
        this.remove(peer.id, 'unhealthy');
        continue;
      }
      present.add(peer.id);
      this.put(peer);
    }
    for (const peer of this.peers()) {
      if (!present.has(peer.id)) this.remove(peer.id, hidden.has(peer.id) ? 'removed' : 'deregistered');
    }
  }
}
