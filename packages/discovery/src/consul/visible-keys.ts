import { setTimeout as sleep } from 'node:timers/promises';

/** The part of the `consul` client this uses. */
export interface KeysClient {
  kv: { get(options: object): Promise<unknown> };
  watch(options: object): {
    on(event: 'change', listener: (data: unknown) => void): void;
    on(event: 'error', listener: (err: Error) => void): void;
    end(): void;
  };
}

export interface VisibleKeysOptions {
  /** The KV prefix; a peer may be seen while a key `<prefix><peerId>` exists. */
  prefix: string;
  /** How long one blocking query may wait for a change. */
  waitMs: number;
  /**
   * Pause before each next query: a burst of changes (fifty log-ins at once) then wakes each
   * watcher a few times, not once per change, and the next answer carries them all.
   */
  settleMs: number;
  retry: { minDelayMs: number; maxDelayMs: number };
}

/**
 * The ids that have a key under a Consul KV prefix, kept current by a blocking `?recurse` read
 * (the values are empty; unlike `?keys`, the client takes a prefix with no key, Consul's 404, as
 * an answer, not an error).
 * A directory gated by it lists only those peers, and nobody while its own id has no key:
 * how a dispatcher keeps its spare peers out of sight (and blind) until someone owns them.
 */
export class VisibleKeys {
  readonly #options: VisibleKeysOptions;
  #watch: ReturnType<KeysClient['watch']> | null = null;

  constructor(options: VisibleKeysOptions) {
    this.#options = options;
  }

  start(client: KeysClient, onChange: (ids: ReadonlySet<string>) => void, onError: (err: Error) => void): void {
    const { prefix, waitMs, settleMs, retry } = this.#options;
    let first = true;
    const watch = client.watch({
      method: async (options: object) => {
        if (!first) await sleep(settleMs);
        first = false;
        return client.kv.get(options);
      },
      options: { key: prefix, recurse: true, wait: `${Math.ceil(waitMs / 1000)}s` },
      backoffFactor: retry.minDelayMs,
      backoffMax: retry.maxDelayMs,
    });
    watch.on('change', (entries) => {
      const ids = new Set<string>();
      // No key at all is a 404, which the client passes on as no data.
      for (const entry of Array.isArray(entries) ? (entries as { Key?: unknown }[]) : []) {
        const key = entry.Key;
        if (typeof key === 'string' && key.startsWith(prefix)) ids.add(key.slice(prefix.length));
      }
      onChange(ids);
    });
    watch.on('error', onError);
    this.#watch = watch;
  }

  stop(): void {
    this.#watch?.end();
    this.#watch = null;
  }
}
