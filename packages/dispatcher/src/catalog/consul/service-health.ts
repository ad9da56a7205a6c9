import Consul from 'consul';
import { ConsulUnavailableError } from './consul-kv.js';

/** The fields of one `/v1/health/service/:name` entry this reads. */
interface HealthEntry {
  Service?: { ID?: string; Meta?: Record<string, string> | null };
  Checks?: { Status?: string }[];
}

export interface ServiceHealthOptions {
  /** The agent, as an origin (http://consul:8500). */
  agent: string;
  /** The Consul service the pool's peers register under. */
  service: string;
  /** Called when a verdict changed (a peer came, went, passed or failed). */
  onChange: () => void;
  onError: (err: Error) => void;
}

/** Per registered peer: whether it passes every check of its instance (the node's included, as `?passing` counts). */
export type HealthVerdicts = ReadonlyMap<string, boolean>;

/**
 * What Consul says of the health of a service's peers, kept current by a blocking query. The
 * peer id is the registration's `peer_id` meta, else its service id (as ConsulDirectory
 * registers); a peer with no registration gets no verdict.
 */
export class ServiceHealth {
  readonly #client: Consul;
  readonly #service: string;
  readonly #agent: string;
  #verdicts: HealthVerdicts | null = null;
  /** The first answer, for reads that come before the watch has one. */
  #first: Promise<HealthVerdicts> | null = null;
  readonly #watch: ReturnType<Consul['watch']>;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(options: ServiceHealthOptions) {
    const url = new URL(options.agent);
    const secure = url.protocol === 'https:';
    this.#client = new Consul({ host: url.hostname, port: Number(url.port || (secure ? 443 : 80)), secure });
    this.#service = options.service;
    this.#agent = url.origin;
    this.#watch = this.#client.watch({
      method: this.#client.health.service.bind(this.#client.health),
      options: { service: options.service, wait: '30s' },
      backoffFactor: 100,
      backoffMax: 10_000,
    });
    this.#watch.on('change', (entries: unknown) => {
      const verdicts = verdictsOf(entries);
      const before = this.#verdicts;
      this.#verdicts = verdicts;
      if (!before || !sameVerdicts(before, verdicts)) options.onChange();
    });
    this.#watch.on('error', (err: Error) => options.onError(err));
  }

  /** The verdicts as the watch last saw them, or, before its first answer, asked now. */
  async verdicts(): Promise<HealthVerdicts> {
    if (this.#verdicts) return this.#verdicts;
    this.#first ??= this.#client.health.service({ service: this.#service }).then(
      (entries: unknown) => verdictsOf(entries),
      (err: unknown) => {
        this.#first = null;
        throw new ConsulUnavailableError(
          `Consul at ${this.#agent} did not say which peers of ${this.#service} pass their checks: ${(err as Error).message}`,
          { cause: err },
        );
      },
    );
    return this.#first;
  }

  /** Calls `then` if, `ms` from now, the peer has no registration (no verdict); never after `stop`. */
  unlessRegisteredWithin(peerId: string, ms: number, then: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.verdicts()
        .then((verdicts) => (verdicts.has(peerId) ? undefined : then()))
        // Consul unreachable: the watch says so already.
        .catch(() => {});
    }, ms);
    timer.unref();
    this.#timers.add(timer);
  }

  stop(): void {
    this.#watch.end();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}

function verdictsOf(entries: unknown): HealthVerdicts {
  const verdicts = new Map<string, boolean>();
  for (const entry of Array.isArray(entries) ? (entries as HealthEntry[]) : []) {
    // A bridge's entry for a peer (a route through it) says nothing of the peer's own health.
    if (entry.Service?.Meta?.relay_bridge_id !== undefined) continue;
    const id = entry.Service?.Meta?.peer_id ?? entry.Service?.ID;
    if (id)
      verdicts.set(
        id,
        (entry.Checks ?? []).every((check) => check.Status === 'passing'),
      );
  }
  return verdicts;
}

function sameVerdicts(a: HealthVerdicts, b: HealthVerdicts): boolean {
  return a.size === b.size && [...a].every(([id, passing]) => b.get(id) === passing);
}
