import { LabelError, type RouterLabels, readTraefikLabels, type ServiceLabels } from './labels.js';
import { hostsOfRule, RuleError } from './rules.js';
import type { StandInStaticConfig } from './static-config.js';
import type { DiscoveredService } from './swarm-discovery.js';

/** One router that serves: the hosts it matches, on which entry points, to which servers. */
export interface Route {
  readonly router: string;
  readonly hosts: readonly string[];
  readonly entryPoints: readonly string[];
  /** http://<task address>:<port>, one per running task. */
  readonly servers: readonly string[];
  /** Traefik's default priority: the rule's length (longer rules first). */
  readonly priority: number;
}

export interface RoutingTable {
  readonly routes: readonly Route[];
  /** Why a service or router serves nothing, as Traefik's log would say. */
  readonly problems: readonly string[];
}

interface Built {
  routers: Map<string, { labels: RouterLabels; service: string; from: string }>;
  services: Map<string, { port: number; servers: string[]; from: string }>;
}

/**
 * The dynamic configuration Traefik's Swarm provider makes of what it found, reduced to what
 * the stand-in serves. Per Swarm service: skipped unless enabled (traefik.enable, else
 * exposedByDefault), skipped whole when a label fails; a router without a service gets the
 * service's only one (an error when there are several); a service needs
 * loadbalancer.server.port (tasks publish none); servers are the tasks' addresses on
 * traefik.swarm.network, else the provider's network, else any Swarm network they have.
 * Routers and services of the same name from two Swarm services merge when they are the
 * same, and are dropped when they differ.
 */
export function buildRoutingTable(found: readonly DiscoveredService[], config: StandInStaticConfig): RoutingTable {
  const problems: string[] = [];
  const built: Built = { routers: new Map(), services: new Map() };
  const conflicts = new Set<string>();
  for (const service of found) {
    let labels: ReturnType<typeof readTraefikLabels>;
    try {
      labels = readTraefikLabels(service.labels);
    } catch (err) {
      if (!(err instanceof LabelError)) throw err;
      problems.push(`skip service ${service.name}: ${err.message}`);
      continue;
    }
    if (!(labels.enable ?? config.swarm.exposedByDefault)) continue;
    if (service.tasks.length === 0) continue;
    const network = labels.network ?? config.swarm.network;
    // No service in the labels: Traefik makes one named after the Swarm service (it still needs a port).
    const services =
      labels.services.size > 0 ? labels.services : new Map([[normalized(service.name), { scheme: 'http' as const }]]);
    addService(built, conflicts, problems, service, services, network);
    addRouters(built, conflicts, problems, service, labels.routers, services);
  }
  for (const name of conflicts) {
    built.routers.delete(name);
    built.services.delete(name);
  }
  return { routes: routesOf(built, config, problems), problems };
}

function addService(
  built: Built,
  conflicts: Set<string>,
  problems: string[],
  service: DiscoveredService,
  services: Map<string, ServiceLabels>,
  network: string | null,
): void {
  for (const [name, spec] of services) {
    if (spec.port === undefined) {
      problems.push(`service ${name} of ${service.name}: port is missing (loadbalancer.server.port)`);
      continue;
    }
    const servers = service.tasks.map((byNetwork) => {
      const address = (network ? byNetwork.get(network) : undefined) ?? [...byNetwork.values()][0];
      if (network && !byNetwork.has(network)) {
        problems.push(
          `could not find network named ${JSON.stringify(network)} for ${service.name}: another network used`,
        );
      }
      return `http://${address}:${spec.port}`;
    });
    const before = built.services.get(name);
    if (before && before.port !== spec.port) {
      problems.push(
        `service ${name} defined multiple times with different configurations (${before.from}, ${service.name})`,
      );
      conflicts.add(name);
    } else if (before) before.servers.push(...servers);
    else built.services.set(name, { port: spec.port, servers, from: service.name });
  }
}

function addRouters(
  built: Built,
  conflicts: Set<string>,
  problems: string[],
  service: DiscoveredService,
  routers: Map<string, RouterLabels>,
  services: Map<string, ServiceLabels>,
): void {
  for (const [name, labels] of routers) {
    const only = services.size === 1 ? [...services.keys()][0] : undefined;
    const target = labels.service ?? only;
    if (!target) {
      problems.push(`router ${name} of ${service.name}: could not define the service name for the router`);
      continue;
    }
    const before = built.routers.get(name);
    if (before && JSON.stringify(before.labels) !== JSON.stringify(labels)) {
      problems.push(
        `router ${name} defined multiple times with different configurations (${before.from}, ${service.name})`,
      );
      conflicts.add(name);
    } else if (!before) built.routers.set(name, { labels, service: target, from: service.name });
  }
}

function routesOf(built: Built, config: StandInStaticConfig, problems: string[]): Route[] {
  const routes: Route[] = [];
  for (const [name, router] of built.routers) {
    if (!router.labels.rule) {
      problems.push(`router ${name}: no rule (the stand-in has no default rule)`);
      continue;
    }
    let hosts: string[];
    try {
      hosts = hostsOfRule(router.labels.rule);
    } catch (err) {
      if (!(err instanceof RuleError)) throw err;
      problems.push(`router ${name}: ${err.message}`);
      continue;
    }
    const service = built.services.get(router.service);
    if (!service) {
      problems.push(`router ${name}: the service "${router.service}@swarm" does not exist`);
      continue;
    }
    const wanted = router.labels.entrypoints ?? [...config.entryPoints.keys()];
    const entryPoints = wanted.filter((entryPoint) => {
      if (config.entryPoints.has(entryPoint)) return true;
      problems.push(
        `router ${name}: entryPoint "${entryPoint}" doesn't exist (or has TLS, not served by the stand-in)`,
      );
      return false;
    });
    if (entryPoints.length === 0) continue;
    routes.push({ router: name, hosts, entryPoints, servers: service.servers, priority: router.labels.rule.length });
  }
  return routes.sort((a, b) => b.priority - a.priority);
}

/** Traefik's provider.Normalize: every run of characters other than letters and digits becomes one '-'. */
function normalized(name: string): string {
  return name.replace(/[^A-Za-z0-9]+/g, '-');
}
