import { parseDuration } from './durations.js';
import { parseYamlSubset, type YamlValue } from './yaml-subset.js';

/** What the stand-in takes from Traefik's static configuration (the rest it leaves, as notes). */
export interface StandInStaticConfig {
  /** Entry point name -> port; TLS entry points are left out (the stand-in speaks plain HTTP only). */
  readonly entryPoints: ReadonlyMap<string, number>;
  readonly swarm: {
    readonly endpoint: string;
    readonly exposedByDefault: boolean;
    readonly network: string | null;
    readonly refreshMs: number;
  };
  readonly throttleMs: number;
  /** What it read but does not do, to log at start. */
  readonly notes: readonly string[];
}

type Mapping = { [key: string]: YamlValue };

/** Traefik v3's defaults: those of the Swarm provider and of providersThrottleDuration. */
const DEFAULTS = { endpoint: 'unix:///var/run/docker.sock', exposedByDefault: true, refreshS: '15s', throttle: '2s' };

export function readStaticConfig(yaml: string): StandInStaticConfig {
  const root = parseYamlSubset(yaml);
  const notes: string[] = [];
  const entryPoints = new Map<string, number>();
  for (const [name, spec] of Object.entries(mappingAt(root, 'entryPoints'))) {
    const entry = asMapping(spec, `entryPoints.${name}`);
    const address = String(entry.address ?? '');
    const port = /^[^:]*:(\d+)(\/tcp)?$/.exec(address)?.[1];
    if (!port) throw new Error(`entryPoints.${name}.address: ${JSON.stringify(address)} is not [host]:port`);
    if (isMapping(entry.http) && 'tls' in entry.http) {
      notes.push(`entry point ${name} has TLS: the stand-in does not listen there`);
      continue;
    }
    entryPoints.set(name, Number(port));
  }
  if (entryPoints.size === 0) throw new Error('entryPoints: none without TLS, nothing for the stand-in to serve');
  const providers = mappingAt(root, 'providers');
  if (!isMapping(providers.swarm)) throw new Error('providers.swarm: missing; the stand-in is the Swarm provider');
  const swarm = providers.swarm;
  for (const other of Object.keys(providers)) {
    if (other !== 'swarm' && other !== 'providersThrottleDuration')
      notes.push(`provider ${other}: not served by the stand-in`);
  }
  const endpoint = String(swarm.endpoint ?? DEFAULTS.endpoint);
  if (!endpoint.startsWith('unix://'))
    throw new Error(`providers.swarm.endpoint: only unix:// sockets, got ${endpoint}`);
  return {
    entryPoints,
    swarm: {
      endpoint,
      exposedByDefault: booleanOf(
        swarm.exposedByDefault,
        DEFAULTS.exposedByDefault,
        'providers.swarm.exposedByDefault',
      ),
      network: swarm.network === undefined ? null : String(swarm.network),
      refreshMs: parseDuration(String(swarm.refreshSeconds ?? DEFAULTS.refreshS), 'providers.swarm.refreshSeconds'),
    },
    throttleMs: parseDuration(
      String(providers.providersThrottleDuration ?? DEFAULTS.throttle),
      'providers.providersThrottleDuration',
    ),
    notes,
  };
}

function isMapping(value: YamlValue | undefined): value is Mapping {
  return typeof value === 'object' && !Array.isArray(value);
}

function asMapping(value: YamlValue | undefined, path: string): Mapping {
  if (!isMapping(value)) throw new Error(`${path}: expected a mapping`);
  return value;
}

function mappingAt(root: Mapping, key: string): Mapping {
  return asMapping(root[key], key);
}

function booleanOf(value: YamlValue | undefined, fallback: boolean, path: string): boolean {
  if (value === undefined) return fallback;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new Error(`${path}: expected true or false, got ${JSON.stringify(value)}`);
}
