import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { PoolStats } from '../pool/warm-pool.js';

export type LoginKind = 'password' | 'signup' | 'guest';
export type LoginOutcome = 'ok' | 'refused' | 'throttled';

/** The dispatcher's Prometheus metrics, in a registry of its own (no global state). */
export class DispatcherMetrics {
  readonly registry = new Registry();
  readonly logins: Counter<'kind' | 'outcome'>;
  readonly claims: Counter<'outcome'>;
  readonly spawnSeconds: Histogram;

  constructor(poolStats: () => Promise<PoolStats>) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'p2pm_dispatcher_' });
    this.logins = new Counter({
      name: 'p2pm_logins_total',
      help: 'Logins by kind (password, signup, guest) and outcome (ok, refused, throttled).',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.claims = new Counter({
      name: 'p2pm_claims_total',
      help: 'Peers handed to users: at once from the pool (warm) or after a wait (cold).',
      labelNames: ['outcome'],
      registers,
    });
    this.spawnSeconds = new Histogram({
      name: 'p2pm_peer_spawn_seconds',
      help: 'From asking for a new peer to its registration as vacant.',
      buckets: [0.25, 0.5, 1, 2, 4, 8, 16, 32],
      registers,
    });
    const pool = new Gauge({
      name: 'p2pm_pool_peers',
      help: 'Peers by state: vacant (healthy, ready), claimed, starting; and users waiting, and the target.',
      labelNames: ['state'],
      registers,
      async collect() {
        const stats = await poolStats();
        for (const state of ['vacant', 'claimed', 'starting', 'waiting', 'target'] as const) {
          this.set({ state }, stats[state]);
        }
      },
    });
    void pool;
  }
}
