import type { RelayRefusal } from './relay-limits.js';

/** What the relay did, for /metrics and the logs: connections, bytes each way, refusals. */
export interface RelayStatsSnapshot {
  connections: number;
  active: number;
  bytesToTarget: number;
  bytesFromTarget: number;
  refusals: Partial<Record<RelayRefusal, number>>;
}

/** Counters a relay listener and its greeting port share; read with snapshot(). */
export class RelayStats {
  connections = 0;
  active = 0;
  bytesToTarget = 0;
  bytesFromTarget = 0;
  readonly #refusals = new Map<RelayRefusal, number>();
  readonly #listeners = new Set<(reason: RelayRefusal) => void>();

  refused(reason: RelayRefusal): void {
    this.#refusals.set(reason, (this.#refusals.get(reason) ?? 0) + 1);
    for (const listener of this.#listeners) listener(reason);
  }

  /** Calls `listener` on every refusal (a metrics counter, say); returns how to stop. */
  onRefused(listener: (reason: RelayRefusal) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  snapshot(): RelayStatsSnapshot {
    return {
      connections: this.connections,
      active: this.active,
      bytesToTarget: this.bytesToTarget,
      bytesFromTarget: this.bytesFromTarget,
      refusals: Object.fromEntries(this.#refusals),
    };
  }
}
