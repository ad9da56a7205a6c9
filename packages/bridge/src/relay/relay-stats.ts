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

  refused(reason: RelayRefusal): void {
    this.#refusals.set(reason, (this.#refusals.get(reason) ?? 0) + 1);
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
