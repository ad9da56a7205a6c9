import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { DispatcherConfigError } from '../errors.js';
import type { DispatcherMetrics } from './metrics.js';

/**
 * Prometheus /metrics on a listener of its own, for a network that only the monitoring
 * reaches (in a Swarm, one that Traefik does not route to): no log-in, nothing else served.
 */
export class MetricsListener {
  readonly #app: FastifyInstance;
  readonly #at: { host: string; port: number };

  constructor(metrics: DispatcherMetrics, at: { host: string; port: number }) {
    this.#at = at;
    this.#app = Fastify({ forceCloseConnections: true });
    this.#app.get('/metrics', async (_request, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
    );
  }

  async listen(): Promise<void> {
    try {
      await this.#app.listen({ host: this.#at.host, port: this.#at.port });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL') throw err;
      throw new DispatcherConfigError(
        `the metrics port ${this.#at.port} on ${this.#at.host} cannot be used (${code}): pass another --metrics-port`,
      );
    }
  }

  address(): AddressInfo | null {
    const address = this.#app.server.address();
    return typeof address === 'object' ? address : null;
  }

  async close(): Promise<void> {
    await this.#app.close();
  }
}
