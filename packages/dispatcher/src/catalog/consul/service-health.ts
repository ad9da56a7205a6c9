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
  /** Called when the set of passing peers changed. */
  onChange: () => void;
  onError: (err: Error) => void;
}

/**
 * Which peers of a Consul service pass their health checks (every check of the instance, the
 * node's included, as Consul's `?passing` counts), kept current by a blocking query. The peer
 * id is the registration's `peer_id` meta, else its service id (as ConsulDirectory registers).
 */
export class ServiceHealth {
  readonly #client: Consul;
  readonly #service: string;
  readonly #agent: string;
  #passing: ReadonlySet<string> | null = null;
  /** The first answer, for reads that come before the watch has one. */
  #first: Promise<ReadonlySet<string>> | null = null;
  readonly #watch: ReturnType<Consul['watch']>;

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
      const passing = passingOf(entries);
      const before = this.#passing;
      this.#passing = passing;
      if (!before || !sameSet(before, passing)) options.onChange();
    });
    this.#watch.on('error', (err: Error) => options.onError(err));
  }

  /** The ids of the passing peers: as the watch last saw them, or, before its first answer, asked now. */
  async passing(): Promise<ReadonlySet<string>> {
    if (this.#passing) return this.#passing;
    this.#first ??= this.#client.health.service({ service: this.#service }).then(
      (entries: unknown) => passingOf(entries),
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

  stop(): void {
    this.#watch.end();
  }
}

function passingOf(entries: unknown): ReadonlySet<string> {
  const passing = new Set<string>();
  for (const entry of Array.isArray(entries) ? (entries as HealthEntry[]) : []) {
    const id = entry.Service?.Meta?.peer_id ?? entry.Service?.ID;
    if (id && (entry.Checks ?? []).every((check) => check.Status === 'passing')) passing.add(id);
  }
  return passing;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((id) => b.has(id));
}
