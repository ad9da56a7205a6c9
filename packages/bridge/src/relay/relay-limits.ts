/** Why the relay turned a connection or a greeting away. */
export type RelayRefusal =
  | 'bad-hello'
  | 'not-advertised'
  | 'limit-total'
  | 'limit-target'
  | 'limit-source'
  | 'unreachable'
  | 'stopped';

export interface RelayLimitsInit {
  /** Relayed connections at once, all together (per link, for an egress). */
  maxTotal?: number;
  /** Relayed connections at once to one target peer. */
  maxPerTarget?: number;
  /** Relayed connections at once from one source (an address, or a bridge). */
  maxPerSource?: number;
}

/** A slot taken: give it back exactly once when the connection ends. */
export type Release = () => void;

/**
 * Counts relayed connections in use, all together, per target and per source, and hands out
 * a slot only within every limit, so that one peer or one address cannot take the bridge.
 */
export class RelayLimits {
  readonly #maxTotal: number;
  readonly #maxPerTarget: number;
  readonly #maxPerSource: number;
  readonly #perTarget = new Map<string, number>();
  readonly #perSource = new Map<string, number>();
  #total = 0;

  constructor(init: RelayLimitsInit = {}) {
    this.#maxTotal = init.maxTotal ?? 1_024;
    this.#maxPerTarget = init.maxPerTarget ?? 64;
    this.#maxPerSource = init.maxPerSource ?? 32;
  }

  get active(): number {
    return this.#total;
  }

  /** A slot for a connection from `source` to `target`, or the limit that refuses it. */
  acquire(target: string, source: string): Release | RelayRefusal {
    if (this.#total >= this.#maxTotal) return 'limit-total';
    if ((this.#perTarget.get(target) ?? 0) >= this.#maxPerTarget) return 'limit-target';
    if ((this.#perSource.get(source) ?? 0) >= this.#maxPerSource) return 'limit-source';
    this.#total++;
    bump(this.#perTarget, target, 1);
    bump(this.#perSource, source, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      bump(this.#perTarget, target, -1);
      bump(this.#perSource, source, -1);
    };
  }
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
}
