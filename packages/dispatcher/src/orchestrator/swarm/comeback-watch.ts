import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { followContainerReadyLine, type ReadyLine } from './ready-line.js';

/**
 * Tells when a peer that died is back: Swarm started a new container for it, and that
 * container printed its ready line (the peer answers). Peer services carry no container
 * health check (each would start a Node process in every peer, every few seconds), so this
 * line, the same one a first start waits for, is the sign of a return.
 */
export class ComebackWatch {
  readonly #docker: Docker;
  readonly #log: Logger;
  /** Per instance: the container whose line is awaited. */
  readonly #following = new Map<string, AbortController>();

  constructor(docker: Docker, log: Logger) {
    this.#docker = docker;
    this.#log = log;
  }

  /** Follows the new container of `instanceId`; `back` runs once it is ready (not if it dies first). */
  follow(instanceId: string, containerId: string, back: (ready: ReadyLine) => void): void {
    this.cancel(instanceId);
    const abort = new AbortController();
    this.#following.set(instanceId, abort);
    followContainerReadyLine(this.#docker, containerId, abort.signal).then(
      (ready) => {
        if (this.#following.get(instanceId) !== abort) return;
        this.#following.delete(instanceId);
        back(ready);
      },
      (err: unknown) => {
        if (abort.signal.aborted) return;
        if (this.#following.get(instanceId) === abort) this.#following.delete(instanceId);
        // It died before its line (its death comes as an event too), or the engine went away.
        this.#log.debug({ err, instanceId, containerId }, 'a restarted peer’s container gave no ready line');
      },
    );
  }

  /** Its death again, or its stop: that container's line no longer matters. */
  cancel(instanceId: string): void {
    this.#following.get(instanceId)?.abort();
    this.#following.delete(instanceId);
  }

  stop(): void {
    for (const abort of this.#following.values()) abort.abort();
    this.#following.clear();
  }
}
