import { Counter, Gauge, type Metric, type Registry } from 'prom-client';

/** Why the federation turned something away (the `reason` label of the refusals counter). */
export type FederationRefusal =
  | 'no-certificate'
  | 'untrusted-bridge'
  | 'bad-advert'
  | 'not-advertised'
  | 'no-route'
  | 'unknown-ticket'
  | 'no-link';

/** The federation's Prometheus metrics, registered in the registry the bridge serves. */
export class FederationMetrics {
  readonly linksUp: Gauge;
  readonly localPeers: Gauge;
  readonly remotePeers: Gauge;
  readonly refusals: Counter<'reason'>;
  readonly linkDrops: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    // A federation started again in the same process (a restart, a test) takes over its metrics.
    const reuse = <T extends Metric>(name: string, make: () => T): T =>
      (registry.getSingleMetric(name) as T | undefined) ?? make();
    this.linksUp = reuse(
      'p2pm_bridge_links_up',
      () => new Gauge({ name: 'p2pm_bridge_links_up', help: 'Federation links up', registers }),
    );
    this.localPeers = reuse(
      'p2pm_bridge_local_peers',
      () =>
        new Gauge({
          name: 'p2pm_bridge_local_peers',
          help: 'Peers of the local network, advertised to other bridges',
          registers,
        }),
    );
    this.remotePeers = reuse(
      'p2pm_bridge_remote_peers',
      () =>
        new Gauge({
          name: 'p2pm_bridge_remote_peers',
          help: 'Peers of other networks reachable through links, advertised locally',
          registers,
        }),
    );
    this.refusals = reuse(
      'p2pm_bridge_federation_refusals_total',
      () =>
        new Counter({
          name: 'p2pm_bridge_federation_refusals_total',
          help: 'Calls, adverts and relay requests the federation refused, by reason',
          labelNames: ['reason'],
          registers,
        }),
    );
    this.linkDrops = reuse(
      'p2pm_bridge_link_drops_total',
      () =>
        new Counter({
          name: 'p2pm_bridge_link_drops_total',
          help: 'Federation links that went down',
          registers,
        }),
    );
  }
}
