import { Counter, Gauge, type Registry } from 'prom-client';
import type { RelayStats } from './relay-stats.js';

const NAMES = {
  active: 'p2pm_bridge_relays_active',
  connections: 'p2pm_bridge_relayed_connections_total',
  bytes: 'p2pm_bridge_relayed_bytes_total',
  refusals: 'p2pm_bridge_relay_refusals_total',
} as const;

/**
 * The relay's Prometheus metrics, read from its stats at each scrape (refusals as they
 * happen, by reason): relays open now, relayed connections and bytes each way.
 */
export function registerRelayMetrics(registry: Registry, stats: RelayStats): () => void {
  // A relay started again in the same process (a restart, a test) takes over the names.
  for (const name of Object.values(NAMES)) registry.removeSingleMetric(name);
  const registers = [registry];
  new Gauge({
    name: NAMES.active,
    help: 'Relayed connections open now',
    registers,
    collect() {
      this.set(stats.active);
    },
  });
  let connections = 0;
  new Counter({
    name: NAMES.connections,
    help: 'Connections the relay accepted and passed on to their target',
    registers,
    collect() {
      this.inc(stats.connections - connections);
      connections = stats.connections;
    },
  });
  const bytes = { 'to-target': 0, 'from-target': 0 };
  new Counter({
    name: NAMES.bytes,
    help: 'Bytes the relay moved, by direction (to-target: from the peer that connected)',
    labelNames: ['direction'],
    registers,
    collect() {
      this.inc({ direction: 'to-target' }, stats.bytesToTarget - bytes['to-target']);
      this.inc({ direction: 'from-target' }, stats.bytesFromTarget - bytes['from-target']);
      bytes['to-target'] = stats.bytesToTarget;
      bytes['from-target'] = stats.bytesFromTarget;
    },
  });
  const refusals = new Counter({
    name: NAMES.refusals,
    help: 'Connections and greetings the relay refused, by reason',
    labelNames: ['reason'],
    registers,
  });
  return stats.onRefused((reason) => refusals.inc({ reason }));
}
