import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { changeServiceLabels } from '../../router/service-labels.js';

/** Applies labels to one service; the labeller's only way to the engine. */
export type ApplyLabels = (serviceId: string, added: Record<string, string>) => Promise<unknown>;

export interface LabellerTiming {
  /** Labels wait for this long without a new one before they are applied… */
  quietMs: number;
  /** …but no longer than this after the first of them, when new ones keep coming. */
  maxWaitMs: number;
}

const TIMING: LabellerTiming = { quietMs: 1_000, maxWaitMs: 5_000 };

/**
 * Adds labels to peer services (which peer each runs, whose it is): labels on the service
 * alone, which Swarm keeps without touching the task. Nobody waits for them (the peer answers
 * already) but `settled`. They are applied once claims calm down, one service at a time: every
 * label change is a service update, a write to the Swarm's store, and 50 of them in the middle
 * of 50 log-ins slowed those log-ins by half. A router may change labels of the same service
 * at the same time, which changeServiceLabels retries.
 */
export class ServiceLabeller {
  readonly #apply: ApplyLabels;
  readonly #log: Logger;
  readonly #timing: LabellerTiming;
  readonly #pending = new Map<string, Record<string, string>>();
  #timer: NodeJS.Timeout | null = null;
  #firstPendingAt = 0;
  #draining: Promise<void> | null = null;

  constructor(apply: ApplyLabels, log: Logger, timing: LabellerTiming = TIMING) {
    this.#apply = apply;
    this.#log = log;
    this.#timing = timing;
  }

  /** A labeller of services on this engine. */
  static onEngine(docker: Docker, log: Logger): ServiceLabeller {
    const apply: ApplyLabels = (serviceId, added) =>
      changeServiceLabels(docker, serviceId, (labels) => ({ ...labels, ...added }));
    return new ServiceLabeller(apply, log);
  }

  add(serviceId: string, added: Record<string, string>): void {
    if (this.#pending.size === 0) this.#firstPendingAt = Date.now();
    this.#pending.set(serviceId, { ...this.#pending.get(serviceId), ...added });
    if (this.#timer) clearTimeout(this.#timer);
    const waited = Date.now() - this.#firstPendingAt;
    const wait = Math.max(0, Math.min(this.#timing.quietMs, this.#timing.maxWaitMs - waited));
    this.#timer = setTimeout(() => this.#drain(), wait);
    this.#timer.unref();
  }

  /** Applies what waits now, and resolves once every change is made (or given up). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0 || this.#draining) await this.#drain();
  }

  #drain(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#draining ??= this.#applyAll().finally(() => {
      this.#draining = null;
    });
    return this.#draining;
  }

  async #applyAll(): Promise<void> {
    for (let next = this.#takeOne(); next; next = this.#takeOne()) {
      const [serviceId, labels] = next;
      try {
        await this.#apply(serviceId, labels);
      } catch (err) {
        this.#log.warn({ err, serviceId, labels }, 'could not label a peer service');
      }
    }
  }

  #takeOne(): [string, Record<string, string>] | undefined {
    const first = this.#pending.entries().next();
    if (first.done) return undefined;
    this.#pending.delete(first.value[0]);
    return first.value;
  }
}
