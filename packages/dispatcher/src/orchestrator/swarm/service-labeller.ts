import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { changeServiceLabels } from '../../router/service-labels.js';

/**
 * Adds labels to peer services (which peer each runs, whose it is): labels on the service
 * alone, which Swarm keeps without touching the task. Nobody waits for them (the peer answers
 * already) but `settled`; a router may change labels of the same service at the same time,
 * which changeServiceLabels retries.
 */
export class ServiceLabeller {
  readonly #docker: Docker;
  readonly #log: Logger;
  readonly #underWay = new Set<Promise<void>>();

  constructor(docker: Docker, log: Logger) {
    this.#docker = docker;
    this.#log = log;
  }

  add(serviceId: string, added: Record<string, string>): void {
    const done = changeServiceLabels(this.#docker, serviceId, (labels) => ({ ...labels, ...added }))
      .then(() => {})
      .catch((err: unknown) => this.#log.warn({ err, serviceId, labels: added }, 'could not label a peer service'))
      .finally(() => this.#underWay.delete(done));
    this.#underWay.add(done);
  }

  /** Once every change under way is made (or given up). */
  async settled(): Promise<void> {
    await Promise.all(this.#underWay);
  }
}
