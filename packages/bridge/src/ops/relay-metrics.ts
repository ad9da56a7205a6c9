import { Counter, Gauge, type Registry } from 'prom-client';
import type { RelayRefusal } from '../relay/relay-limits.js';
import type { RelayStats } from '../relay/relay-stats.js';

const REFUSALS: readonly RelayRefusal[] = [
  'bad-hello',
  'not-advertised',
  'limit-total',
  'limit-target',
  'limit-source',
  'unreachable',
  'stopped',
];

/**
 * The relay's Prometheus metrics, read from its RelayStats when scraped (collect callbacks),
 * so that the stats stay the one bookkeeping. `stats` is null until the bridge has started.
 */
export function registerRelayMetrics(registry: Registry, stats: () => RelayStats | null): void {
  const registers = [registry];
  const snapshot = () => stats()?.snapshot();
  new Counter({
    name: 'p2pm_bridge_relayed_connections_total',
    help: "TLS sessions this network's peers opened to other networks through the relay port, since start",
    registers,
    collect() {
      this.reset();
      this.inc(snapshot()?.connections ?? 0);
    },
  });
  new Gauge({
    name: 'p2pm_bridge_relayed_connections_active',
    help: 'Relayed TLS sessions open now (from the relay port)',
    registers,
    collect() {
      this.set(snapshot()?.active ?? 0);
    },
  });
  new Counter({
    name: 'p2pm_bridge_relayed_bytes_total',
    help: 'Bytes relayed from the relay port, by direction: to_target (from the dialing peer) and from_target',
    labelNames: ['direction'],
    registers,
    collect() {
      const now = snapshot();
      this.reset();
      this.inc({ direction: 'to_target' }, now?.bytesToTarget ?? 0);
      this.inc({ direction: 'from_target' }, now?.bytesFromTarget ?? 0);
    },
  });
  new Counter({
    name: 'p2pm_bridge_relay_refusals_total',
    help: 'Relay connections and greetings refused (relay port, greeting port, egress into this network), by reason',
    labelNames: ['reason'],
    registers,
    collect() {
      const refusals = snapshot()?.refusals ?? {};
      this.reset();
      for (const reason of REFUSALS) this.inc({ reason }, refusals[reason] ?? 0);
    },
  });
}
