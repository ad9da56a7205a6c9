import { type Logger, pino } from 'pino';
import { backoffDelay } from '../backoff.js';
import { DiscoveryConfigError } from '../errors.js';
import { type ConsulClient, isForgotten, openConsulWhile, parseAgent } from './consul-client.js';
import {
  type RelayAccess,
  type RelayedPeerEntry,
  relayCheckId,
  relayRegistrationFor,
  relayServiceId,
} from './relay-record.js';
import { DEFAULT_SERVICE_NAME, type HealthEntry } from './service-record.js';

export interface ConsulRelayEntriesOptions {
  /** The Consul agent: "host:port" or "http(s)://host:port". */
  agent: string;
  /** The peers' service: its watchers list the entries with their route. */
  serviceName?: string;
  /** Where this network's peers reach the bridge. */
  access: RelayAccess;
  tags?: readonly string[];
  /** The checks' TTL; each is passed every third of it. */
  ttlMs?: number;
  /** Consul removes an entry whose check stayed critical this long (the bridge died). */
  reapAfterMs?: number;
  retry?: { minDelayMs?: number; maxDelayMs?: number };
  log?: Logger;
}

/**
 * A bridge's entries for the peers of other networks, in the peers' Consul service: one per
 * peer, at the bridge's relay address, with a TTL check the bridge keeps passing (a bridge that
 * dies leaves failing entries, which Consul then removes). Entries are registered and
 * deregistered as the set changes, registered again when the agent forgot them, retried with
 * backoff while Consul is down, and deregistered on stop. At start it removes entries a previous
 * run of the same bridge left behind.
 */
export class ConsulRelayEntries {
  readonly #options: ConsulRelayEntriesOptions;
  readonly #log: Logger;
  readonly #serviceName: string;
  readonly #ttlMs: number;
  readonly #wanted = new Map<string, RelayedPeerEntry>();
  /** Per peer: the registration the agent holds, as sent. */
  readonly #registered = new Map<string, string>();
  #client: ConsulClient | null = null;
  #running = false;
  #cleaned = false;
  #failures = 0;
  #timer: NodeJS.Timeout | null = null;
  #beatDue = false;
  #again = false;
  #syncing: Promise<void> | null = null;

  constructor(options: ConsulRelayEntriesOptions) {
    parseAgent(options.agent);
    this.#options = options;
    this.#log = (options.log ?? pino({ level: 'silent' })).child({ component: 'consul-relay-entries' });
    this.#serviceName = options.serviceName ?? DEFAULT_SERVICE_NAME;
    this.#ttlMs = options.ttlMs ?? 10_000;
    if (this.#ttlMs < 1_000) throw new DiscoveryConfigError('the Consul check TTL must be at least 1 s');
  }

  /** Starts registering; a Consul that is down is retried, never fatal. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const client = await openConsulWhile(this.#options.agent, () => this.#running);
    if (!client) return;
    this.#client = client;
    await this.#sync();
  }

  /** Deregisters every entry; safe to call twice. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#syncing;
    const client = this.#client;
    if (client) {
      await Promise.all(
        [...this.#registered.keys()].map((peerId) =>
          this.#deregister(client, peerId).catch((err: unknown) =>
            this.#log.warn({ err, peerId }, 'could not deregister a relay entry from Consul'),
          ),
        ),
      );
      client.destroy();
    }
    this.#registered.clear();
    this.#wanted.clear();
    this.#client = null;
  }

  /** Peers to list as reachable through the bridge, new or changed. */
  put(entries: readonly RelayedPeerEntry[]): void {
    for (const entry of entries) this.#wanted.set(entry.peerId, { ...entry });
    if (entries.length > 0) void this.#sync();
  }

  /** Peers no longer reachable through the bridge. */
  remove(peerIds: readonly string[]): void {
    if (peerIds.filter((id) => this.#wanted.delete(id)).length > 0) void this.#sync();
  }

  /** The peers whose entry the agent holds now, as far as this bridge knows. */
  registered(): string[] {
    return [...this.#registered.keys()];
  }

  /** One pass at a time; a change during a pass makes one more. */
  #sync(beat = false): Promise<void> {
    if (beat) this.#beatDue = true;
    if (this.#syncing) {
      this.#again = true;
      return this.#syncing;
    }
    this.#syncing = (async () => {
      do {
        this.#again = false;
        await this.#pass();
      } while (this.#again && this.#running);
    })().finally(() => {
      this.#syncing = null;
      this.#schedule();
    });
    return this.#syncing;
  }

  /** The next heartbeat, or sooner after a failure; a change in between does not postpone it. */
  #schedule(): void {
    if (!this.#running) return;
    if (this.#timer && this.#failures === 0) return;
    if (this.#timer) clearTimeout(this.#timer);
    const delay =
      this.#failures === 0
        ? this.#ttlMs / 3
        : backoffDelay(this.#failures - 1, this.#options.retry ?? { minDelayMs: 250, maxDelayMs: this.#ttlMs / 3 });
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#sync(true);
    }, delay);
  }

  async #pass(): Promise<void> {
    const client = this.#client;
    if (!client || !this.#running) return;
    const beat = this.#beatDue;
    this.#beatDue = false;
    try {
      if (!this.#cleaned) await this.#removeLeftovers(client);
      this.#cleaned = true;
      const toBeat = beat ? [...this.#registered.keys()].filter((id) => this.#wanted.has(id)) : [];
      await Promise.all([
        ...[...this.#wanted.values()]
          .filter((entry) => this.#registered.get(entry.peerId) !== JSON.stringify(entry))
          .map((entry) => this.#register(client, entry)),
        ...[...this.#registered.keys()]
          .filter((peerId) => !this.#wanted.has(peerId))
          .map((peerId) => this.#deregister(client, peerId)),
        ...toBeat.map((peerId) => this.#beat(client, peerId)),
      ]);
      if (this.#failures > 0) this.#log.info('Consul answers again: relay entries registered');
      this.#failures = 0;
    } catch (err) {
      if (!this.#running) return;
      if (this.#failures === 0) this.#log.warn({ err: (err as Error).message }, 'Consul unreachable; retrying');
      this.#failures++;
      this.#beatDue = true;
    }
  }

  async #register(client: ConsulClient, entry: RelayedPeerEntry): Promise<void> {
    const registration = relayRegistrationFor(entry, this.#options.access, {
      serviceName: this.#serviceName,
      tags: this.#options.tags ?? [],
      ttlMs: this.#ttlMs,
      reapAfterMs: this.#options.reapAfterMs ?? 60_000,
    });
    await client.agent.service.register({ ...registration, timeout: 5_000 });
    // Withdrawn meanwhile: the next pass (made by the withdrawal) deregisters it.
    this.#registered.set(entry.peerId, JSON.stringify(entry));
  }

  async #deregister(client: ConsulClient, peerId: string): Promise<void> {
    try {
      await client.agent.service.deregister({
        id: relayServiceId(this.#options.access.bridgeId, peerId),
        timeout: 2_000,
      });
    } catch (err) {
      // Gone already (reaped, or the agent forgot it): what we wanted.
      if ((err as { response?: { statusCode?: number } }).response?.statusCode !== 404) throw err;
    }
    this.#registered.delete(peerId);
  }

  async #beat(client: ConsulClient, peerId: string): Promise<void> {
    try {
      await client.agent.check.pass({ id: relayCheckId(this.#options.access.bridgeId, peerId), timeout: 5_000 });
    } catch (err) {
      if (!isForgotten(err)) throw err;
      this.#log.warn({ peerId }, 'Consul lost a relay entry (agent restarted?); registering it again');
      this.#registered.delete(peerId);
      this.#again = true;
    }
  }

  /** Entries of this bridge that a run before this one left (it was killed): not ours to keep. */
  async #removeLeftovers(client: ConsulClient): Promise<void> {
    const entries = await client.health.service({ service: this.#serviceName, timeout: 5_000 });
    const { bridgeId } = this.#options.access;
    const stale = (Array.isArray(entries) ? (entries as HealthEntry[]) : [])
      .map((entry) => entry.Service?.Meta ?? {})
      .filter((meta) => meta.relay_bridge_id === bridgeId && meta.peer_id && !this.#wanted.has(meta.peer_id))
      .map((meta) => meta.peer_id as string);
    if (stale.length > 0) this.#log.info({ count: stale.length }, 'removing relay entries a previous run left');
    await Promise.all(stale.map((peerId) => this.#deregister(client, peerId)));
  }
}
