import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { backoffDelay } from '@p2p-messenger/discovery';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { onEngineEvents, type RawEngineEvent } from './event-lines.js';

/** A container event of the engine, as the orchestrator uses it. */
export interface EngineEvent {
  /** `start`, `die`, `destroy`, ... */
  action: string;
  /** The container's id. */
  containerId: string;
  /** The container's labels (ours and Swarm's: com.docker.swarm.service.id, ...). */
  labels: Record<string, string>;
  exitCode: number | null;
}

/**
 * The engine's event stream of the containers carrying `labels`, kept open (reopened with
 * backoff when the engine restarts) from `start` to `stop`. Nothing is polled. Only the
 * `actions` asked for come (hundreds of peers make many events the orchestrator has no use for).
 */
export class DockerEvents extends EventEmitter<{ event: [EngineEvent] }> {
  readonly #docker: Docker;
  readonly #labels: Record<string, string>;
  readonly #actions: readonly string[];
  readonly #log: Logger;
  #stream: Readable | null = null;
  #running = false;
  #timer: NodeJS.Timeout | null = null;

  constructor(docker: Docker, filter: { labels: Record<string, string>; actions: readonly string[] }, log: Logger) {
    super();
    this.setMaxListeners(0);
    this.#docker = docker;
    this.#labels = filter.labels;
    this.#actions = filter.actions;
    this.#log = log;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#open(0);
  }

  stop(): void {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#stream?.destroy();
    this.#stream = null;
  }

  async #open(attempt: number): Promise<void> {
    if (!this.#running) return;
    try {
      const label = Object.entries(this.#labels).map(([key, value]) => `${key}=${value}`);
      const stream = (await this.#docker.getEvents({
        filters: { type: ['container'], label, event: [...this.#actions] },
      })) as Readable;
      if (!this.#running) return void stream.destroy();
      this.#stream = stream;
      onEngineEvents(stream, (event) => this.#emitEvent(event));
      stream.once('close', () => this.#reopen(1));
      stream.once('error', () => stream.destroy());
    } catch (err) {
      this.#log.warn({ err }, 'the engine’s event stream could not be opened; trying again');
      this.#reopen(attempt + 1);
    }
  }

  #reopen(attempt: number): void {
    if (!this.#running) return;
    this.#timer = setTimeout(
      () => void this.#open(attempt),
      backoffDelay(attempt, { minDelayMs: 250, maxDelayMs: 10_000 }),
    );
  }

  #emitEvent(raw: RawEngineEvent): void {
    if (raw.Type !== 'container' || !raw.Action) return;
    const labels = raw.Actor?.Attributes ?? {};
    const exitCode = labels.exitCode === undefined ? null : Number(labels.exitCode);
    this.emit('event', { action: raw.Action, containerId: raw.Actor?.ID ?? '', labels, exitCode });
  }
}
