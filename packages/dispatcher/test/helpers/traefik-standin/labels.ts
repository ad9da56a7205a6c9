/**
 * A Swarm service's Traefik labels, read as Traefik v3's Swarm provider reads them: `traefik.enable`,
 * `traefik.swarm.*`, and the HTTP routers and services under `traefik.http.`. Field names are
 * matched without regard to case, as Traefik's label decoder does; a field Traefik does not
 * know makes the whole service's labels fail (Traefik skips the service: its routers are never
 * built); a field Traefik knows but the stand-in does not do is refused the same way, loudly.
 */
export class LabelError extends Error {
  override name = 'LabelError';
}

export interface RouterLabels {
  rule?: string;
  entrypoints?: string[];
  service?: string;
}

export interface ServiceLabels {
  port?: number;
  scheme: 'http';
}

export interface ServiceTraefikLabels {
  /** traefik.enable; undefined when not set (exposedByDefault decides). */
  enable: boolean | undefined;
  /** traefik.swarm.network. */
  network: string | undefined;
  routers: Map<string, RouterLabels>;
  services: Map<string, ServiceLabels>;
}

/** Fields of Traefik's HTTP routers and services the stand-in does not do (it refuses them). */
const KNOWN_NOT_DONE = {
  router: ['priority', 'middlewares', 'tls', 'observability', 'rulesyntax'],
  service: ['healthcheck', 'sticky', 'serverstransport', 'responseforwarding', 'passhostheader', 'strategy'],
};

export function readTraefikLabels(labels: Readonly<Record<string, string>>): ServiceTraefikLabels {
  const out: ServiceTraefikLabels = { enable: undefined, network: undefined, routers: new Map(), services: new Map() };
  for (const [key, value] of Object.entries(labels)) {
    const path = key.split('.');
    if (path[0]?.toLowerCase() !== 'traefik') continue;
    const area = path[1]?.toLowerCase();
    if (area === 'enable' && path.length === 2) out.enable = booleanOf(key, value);
    else if (area === 'swarm') swarmLabel(out, key, path.slice(2), value);
    else if (area === 'http') httpLabel(out, key, path.slice(2), value);
    else if (area === 'tcp' || area === 'udp' || area === 'tls')
      throw new LabelError(`${key}: the stand-in serves HTTP only`);
    // Other prefixes (traefik.docker.* and the like) are not the Swarm provider's: Traefik ignores them.
  }
  return out;
}

function swarmLabel(out: ServiceTraefikLabels, key: string, rest: string[], value: string): void {
  const field = rest.join('.').toLowerCase();
  if (field === 'network') out.network = value;
  else if (field === 'lbswarm') {
    if (booleanOf(key, value)) throw new LabelError(`${key}: Swarm's load balancer (VIP) is not done by the stand-in`);
  } else throw new LabelError(`${key}: field not found, node: ${rest.join('.')}`);
}

function httpLabel(out: ServiceTraefikLabels, key: string, rest: string[], value: string): void {
  const [kind, name, ...field] = rest;
  const fieldPath = field.join('.').toLowerCase();
  if (!name || field.length === 0) throw new LabelError(`${key}: incomplete`);
  if (kind?.toLowerCase() === 'routers') {
    const router = out.routers.get(name) ?? {};
    out.routers.set(name, router);
    if (fieldPath === 'rule') router.rule = value;
    else if (fieldPath === 'entrypoints') router.entrypoints = value.split(',').map((e) => e.trim());
    else if (fieldPath === 'service') router.service = value;
    else notDoneOrUnknown(key, field, KNOWN_NOT_DONE.router);
  } else if (kind?.toLowerCase() === 'services') {
    const service = out.services.get(name) ?? { scheme: 'http' };
    out.services.set(name, service);
    if (fieldPath === 'loadbalancer.server.port') service.port = portOf(key, value);
    else if (fieldPath === 'loadbalancer.server.scheme') {
      if (value !== 'http') throw new LabelError(`${key}: only the http scheme is done by the stand-in`);
    } else if (field[0]?.toLowerCase() === 'loadbalancer')
      notDoneOrUnknown(key, field.slice(1), KNOWN_NOT_DONE.service);
    else throw new LabelError(`${key}: field not found, node: ${field[0]}`);
  } else if (kind?.toLowerCase() === 'middlewares' || kind?.toLowerCase() === 'serverstransports') {
    throw new LabelError(`${key}: ${kind} are not done by the stand-in`);
  } else throw new LabelError(`${key}: field not found, node: ${kind}`);
}

function notDoneOrUnknown(key: string, field: string[], known: readonly string[]): never {
  const head = field[0]?.toLowerCase() ?? '';
  if (
    known.includes(head) ||
    (head === 'server' && ['url', 'weight', 'preservepath'].includes(field[1]?.toLowerCase() ?? ''))
  ) {
    throw new LabelError(`${key}: Traefik knows ${field.join('.')}, the stand-in does not do it`);
  }
  throw new LabelError(`${key}: field not found, node: ${field.join('.')}`);
}

function booleanOf(key: string, value: string): boolean {
  const lower = value.trim().toLowerCase();
  if (lower === 'true' || lower === 'false') return lower === 'true';
  throw new LabelError(`${key}: ${JSON.stringify(value)} is not a boolean`);
}

function portOf(key: string, value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || port < 1 || port > 65_535) {
    throw new LabelError(`${key}: ${JSON.stringify(value)} is not a port`);
  }
  return port;
}
