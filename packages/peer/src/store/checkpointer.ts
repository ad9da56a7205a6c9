import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { compiledSibling } from '../util/compiled-path.js';

const WORKER = compiledSibling(import.meta.url, './checkpoint-worker.js');
/** How large the WAL may grow under sustained writing before the writer makes it start over. */
export const MAX_WAL_BYTES = 64 * 1024 * 1024;

/**
 * Checkpoints the store's WAL from a worker thread. If the worker fails, `onFailure` is told,
 * so that the store can go back to checkpointing by itself rather than let the WAL grow.
 */
export class Checkpointer {
  readonly #path: string;
  readonly #log: Logger;
  readonly #onFailure: () => void;
  readonly #intervalMs: number;
  #worker: Worker | null = null;
  #stopping = false;

  constructor(path: string, log: Logger, onFailure: () => void, intervalMs = 250) {
    this.#path = path;
    this.#log = log.child({ component: 'checkpointer' });
    this.#onFailure = onFailure;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    if (this.#worker) return;
    this.#stopping = false;
    const worker = new Worker(WORKER, {
      workerData: { path: this.#path, intervalMs: this.#intervalMs },
    });
    worker.on('message', (message: { error?: string }) => {
      if (message.error) this.#log.warn({ error: message.error }, 'checkpoint failed');
    });
    worker.on('error', (err) => this.#log.error({ err }, 'checkpoint worker failed'));
    worker.on('exit', () => {
      if (this.#stopping) return;
      this.#log.warn('checkpoint worker stopped; checkpointing on the main thread instead');
      this.#worker = null;
      this.#onFailure();
    });
    this.#worker = worker;
  }

  async stop(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    this.#stopping = true;
    this.#worker = null;
    const exited = once(worker, 'exit');
    worker.postMessage('stop');
    await exited;
  }
}
