import Consul from 'consul';

/** One key of a tree, with the index a check-and-set must name to replace it. */
export interface KvEntry {
  key: string;
  value: string;
  modifyIndex: number;
}

/** One write of a transaction. `index` 0 means "only if the key is absent". */
export type KvWrite =
  | { verb: 'set'; key: string; value: string }
  | { verb: 'cas'; key: string; value: string; index: number }
  | { verb: 'delete-cas'; key: string; index: number }
  | { verb: 'delete'; key: string };

/** The agent said no, or could not be reached: the catalog cannot answer now. */
export class ConsulUnavailableError extends Error {
  override readonly name = 'ConsulUnavailableError';
}

function statusOf(err: unknown): number | undefined {
  return (err as { response?: { statusCode?: number } }).response?.statusCode;
}

/**
 * The few Consul KV calls the catalog makes, through the `consul` client: a tree read, an
 * all-or-nothing transaction whose check-and-set conflicts come back as `false` (409), and a
 * blocking-query watch of the tree.
 */
export class ConsulKv {
  readonly #client: Consul;
  readonly #agent: string;

  constructor(agent: string) {
    const url = new URL(agent);
    const secure = url.protocol === 'https:';
    this.#agent = url.origin;
    this.#client = new Consul({ host: url.hostname, port: Number(url.port || (secure ? 443 : 80)), secure });
  }

  async tree(prefix: string): Promise<KvEntry[]> {
    const items = await this.#call(() => this.#client.kv.get({ key: prefix, recurse: true }));
    const list = items === null || items === undefined ? [] : Array.isArray(items) ? items : [items];
    return list.map((item) => ({ key: item.Key, value: item.Value ?? '', modifyIndex: item.ModifyIndex }));
  }

  /** True when every write took; false when a check-and-set lost (nothing was written then). */
  async transact(writes: readonly KvWrite[]): Promise<boolean> {
    const operations = writes.map((write) => ({
      KV: {
        Verb: write.verb,
        Key: write.key,
        ...('value' in write ? { Value: Buffer.from(write.value).toString('base64') } : {}),
        ...('index' in write ? { Index: write.index } : {}),
      },
    }));
    try {
      await this.#call(() => this.#client.transaction.create(operations as never));
      return true;
    } catch (err) {
      if (err instanceof ConsulUnavailableError && err.cause !== undefined && statusOf(err.cause) === 409) return false;
      throw err;
    }
  }

  /** Calls `onChange` whenever the tree under `prefix` changes, by blocking queries. */
  watch(prefix: string, onChange: () => void, onError: (err: Error) => void): () => void {
    const watch = this.#client.watch({
      method: this.#client.kv.get.bind(this.#client.kv),
      options: { key: prefix, recurse: 'true', wait: '30s' },
      backoffFactor: 100,
      backoffMax: 10_000,
    });
    watch.on('change', () => onChange());
    watch.on('error', (err: Error) => onError(err));
    return () => watch.end();
  }

  async #call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      const status = statusOf(err);
      throw new ConsulUnavailableError(
        status === undefined
          ? `Consul at ${this.#agent} is unreachable (${(err as Error).message}): is the agent up, and --consul right?`
          : `Consul at ${this.#agent} answered ${status}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}
