import { pino } from 'pino';
import { DirectoryBase } from '../directory.js';
import { type ConsulClient, openConsulWhile, parseAgent } from './consul-client.js';
import type { ConsulOptions } from './consul-directory.js';
import { ConsulPeerWatch } from './consul-peer-watch.js';
import { DEFAULT_SERVICE_NAME } from './service-record.js';

/** What a ConsulDirectory is told about watching (its own registration aside). */
export type ConsulReaderOptions = Pick<
  ConsulOptions,
  'agent' | 'serviceName' | 'visibleKeys' | 'watchWaitMs' | 'retry' | 'log'
>;

/**
 * The peers of a Consul service, watched with blocking queries by something that is no peer
 * itself (a bridge): nothing is registered. Lists what a ConsulDirectory lists, relay routes
 * included; a Consul that is down is retried, never fatal.
 */
export class ConsulReader extends DirectoryBase {
  readonly source = 'consul' as const;
  readonly #agent: string;
  readonly #watch: ConsulPeerWatch;
  #client: ConsulClient | null = null;
  #running = false;

  constructor(options: ConsulReaderOptions) {
    super();
    parseAgent(options.agent);
    this.#agent = options.agent;
    this.#watch = new ConsulPeerWatch({
      serviceName: options.serviceName ?? DEFAULT_SERVICE_NAME,
      ...(options.visibleKeys === undefined ? {} : { visibleKeys: options.visibleKeys }),
      ...(options.watchWaitMs === undefined ? {} : { watchWaitMs: options.watchWaitMs }),
      ...(options.retry === undefined ? {} : { retry: options.retry }),
      log: (options.log ?? pino({ level: 'silent' })).child({ directory: 'consul' }),
    });
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.markStarted();
    this.#running = true;
    const client = await openConsulWhile(this.#agent, () => this.#running);
    if (!client) return;
    this.#client = client;
    this.#watch.start(client, {
      put: (peer) => this.put(peer),
      remove: (id, reason) => this.remove(id, reason),
      peers: () => this.peers(),
    });
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#watch.stop();
    this.#client?.destroy();
    this.#client = null;
    this.markStopped();
  }
}
