import { join } from 'node:path';
import {
  ConfigError,
  discoveryOf,
  LOG_LEVELS,
  type LogLevel,
  parseChoice,
  parseConsulAgent,
  parseConsulKeyPrefix,
  parseHost,
  parseName,
  parsePath,
  parsePort,
  type Setting,
} from '@p2p-messenger/peer';
import type { JoinTarget } from '../federation/link-dialer.js';
import type { LanMulticast } from '../local/lan-network.js';
import type { RelayLimitsInit } from '../relay/relay-limits.js';
import { parseCount, parseJoin, parseListen, parseSwitch, parseTrustedId } from './bridge-values.js';
import { type FileSettings, readConfigFile } from './config-file.js';
import { readFlags } from './flags.js';
import { DEFAULTS, OPTIONS, type OptionKey } from './options.js';

/** The validated, frozen configuration of one `bridge` process. */
export interface BridgeConfig {
  readonly name: string;
  readonly dataDir: string;
  readonly listen: { readonly host: string; readonly port: number } | null;
  readonly trust: readonly string[];
  readonly join: readonly JoinTarget[];
  /** The local side, one of two: this host's LAN by multicast, or a Consul catalog. */
  readonly lan: LanMulticast | null;
  readonly consul: ConsulSide | null;
  readonly relay: {
    readonly host: string;
    readonly greetingPort: number;
    readonly securePort: number;
    readonly idleTimeoutMs?: number;
  };
  readonly limits: RelayLimitsInit;
  readonly ops: { readonly host: string; readonly port: number } | null;
  readonly logLevel: LogLevel;
  /** An absolute path, or `-` for stderr. */
  readonly logFile: string;
}

/** The local side in Consul: the peers' service, who may be seen, and where peers reach the relay. */
export interface ConsulSide {
  readonly agent: string;
  readonly serviceName?: string;
  readonly visibleKeys?: string;
  readonly advertise: string;
}

export type BridgeCommand = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; config: BridgeConfig };

export type Env = Readonly<Record<string, string | undefined>>;

/** Options that exist only with --lan. */
const LAN_ONLY: readonly OptionKey[] = [
  'interface',
  'multicastFamily',
  'multicastPort',
  'multicastGroupV4',
  'multicastGroupV6',
  'announceInterval',
  'peerExpiry',
];

/** Options that exist only with --consul. */
const CONSUL_ONLY: readonly OptionKey[] = ['consulService', 'consulVisibleKeys', 'advertise'];

/**
 * Reads flags, then environment variables, then the config file (the first that has a setting
 * wins) into a validated configuration. Throws ConfigError with a message that says what to do.
 */
export function parseBridgeCommand(argv: readonly string[], env: Env, homedir: string): BridgeCommand {
  // `pnpm bridge -- --help` passes the separator through.
  const flags = readFlags(argv[0] === '--' ? argv.slice(1) : argv);
  if (flags.has('help')) return { kind: 'help' };
  if (flags.has('version')) return { kind: 'version' };
  const fromFlagOrEnv = (key: OptionKey): Setting[] | undefined => {
    const spec: { flag: string; env?: string; kind: string } = OPTIONS[key];
    const given = flags.get(key);
    if (given) return given.map((value) => ({ value, from: `--${spec.flag}` }));
    const fromEnv = spec.env ? env[spec.env] : undefined;
    if (!fromEnv || !spec.env) return undefined;
    const values = spec.kind === 'list' ? fromEnv.split(',').map((v) => v.trim()) : [fromEnv];
    return values.filter((v) => v !== '').map((value) => ({ value, from: spec.env as string }));
  };
  const configFile = fromFlagOrEnv('config')?.at(-1);
  const file: FileSettings = configFile ? readConfigFile(parsePath(configFile, homedir), configFile.from) : new Map();
  const list = (key: OptionKey): Setting[] => fromFlagOrEnv(key) ?? file.get(key) ?? [];
  const one = (key: OptionKey): Setting | undefined => list(key).at(-1);

  const name = parseName(one('name') ?? { value: DEFAULTS.name, from: 'the default name' });
  const dataDir = parseDataDir(one('dataDir'), homedir);
  const lanSetting = one('lan');
  const lan = lanSetting ? parseSwitch(lanSetting) : false;
  const consulSetting = one('consul');
  checkOneLocalSide(lan ? lanSetting : undefined, consulSetting, one);
  const join = parseJoins(list('join'));
  const listenSetting = one('listen');
  const listen = listenSetting ? parseListen(listenSetting) : null;
  const trust = unique(list('trust').map(parseTrustedId));
  if (trust.length > 0 && !listen) {
    throw new ConfigError(
      `${list('trust')[0]?.from} lets bridges link in, but this bridge does not listen: add --listen HOST:PORT (e.g. ${OPTIONS.listen.example})`,
    );
  }
  if (listen && trust.length === 0) {
    throw new ConfigError(
      `${listenSetting?.from} opens a federation port, but no bridge may link to it: add --trust ID for each bridge allowed in`,
    );
  }
  const relayHost = parseHost(
    one('relayHost') ?? { value: DEFAULTS.relayHost, from: 'default' },
    'an address to listen on',
  );
  const relay = {
    host: relayHost,
    greetingPort: parsePort(one('relayGreetingPort')) ?? DEFAULTS.relayGreetingPort,
    securePort: parsePort(one('relayPort')) ?? DEFAULTS.relayPort,
    ...optional('idleTimeoutMs', parseCount(one('relayIdleTimeout'), 1_000, 86_400_000, 'milliseconds')),
  };
  const opsPort = parsePort(one('opsPort'));
  const opsHost = one('opsHost');
  if (opsHost && opsPort === undefined) throw new ConfigError(`${opsHost.from} goes with --ops-port`);
  const ops =
    opsPort === undefined
      ? null
      : { host: opsHost ? parseHost(opsHost, 'an address to listen on') : DEFAULTS.opsHost, port: opsPort };
  checkDistinctPorts([
    ['--listen', listen?.port],
    ['--relay-greeting-port', relay.greetingPort],
    ['--relay-port', relay.securePort],
    ['--ops-port', ops?.port],
  ]);
  const config: BridgeConfig = {
    name,
    dataDir,
    listen,
    trust,
    join,
    lan: lan ? lanOf(one, list) : null,
    consul: consulSetting ? consulOf(consulSetting, one, relayHost) : null,
    relay,
    limits: {
      ...optional('maxTotal', parseCount(one('maxRelays'), 1, 1_000_000, 'connections')),
      ...optional('maxPerTarget', parseCount(one('maxRelaysPerPeer'), 1, 1_000_000, 'connections')),
      ...optional('maxPerSource', parseCount(one('maxRelaysPerSource'), 1, 1_000_000, 'connections')),
    },
    ops,
    logLevel: parseChoice(one('logLevel'), LOG_LEVELS) ?? DEFAULTS.logLevel,
    logFile: logFileOf(one('logFile'), homedir),
  };
  return { kind: 'run', config: Object.freeze(config) };
}

/** Exactly one local side, and no option of the other. */
function checkOneLocalSide(
  lan: Setting | undefined,
  consul: Setting | undefined,
  one: (key: OptionKey) => Setting | undefined,
): void {
  if (lan && consul) {
    throw new ConfigError(
      `${lan.from} and ${consul.from} both name the local side: a bridge joins one network, a LAN or a Consul catalog (run one bridge for each)`,
    );
  }
  const lanStray = lan ? undefined : LAN_ONLY.map(one).find(Boolean);
  if (lanStray) throw new ConfigError(`${lanStray.from} goes with --lan (or ${OPTIONS.lan.env}=true)`);
  const consulStray = consul ? undefined : CONSUL_ONLY.map(one).find(Boolean);
  if (consulStray) throw new ConfigError(`${consulStray.from} goes with --consul URL (or ${OPTIONS.consul.env})`);
  if (!lan && !consul) {
    throw new ConfigError(
      `no local side is configured: pass --lan to join this host's LAN (multicast; --interface NAME picks the interface), or set ${OPTIONS.lan.env}=true; or pass --consul URL to join the peers registered in a Consul catalog (or set ${OPTIONS.consul.env})`,
    );
  }
}

/** The Consul side: where the agent is, which peers, and the address peers reach this bridge at. */
function consulOf(setting: Setting, one: (key: OptionKey) => Setting | undefined, relayHost: string): ConsulSide {
  const agent = parseConsulAgent(setting) as string;
  const service = one('consulService');
  const visibleKeys = one('consulVisibleKeys');
  const advertised = one('advertise');
  const listensEverywhere = relayHost === '0.0.0.0' || relayHost === '::';
  if (!advertised && listensEverywhere) {
    throw new ConfigError(
      `${setting.from} needs --advertise HOST (or ${OPTIONS.advertise.env}): the address this network's peers reach the relay ports at, registered in Consul (the relay listens on ${relayHost}, which is no address to reach), e.g. --advertise ${OPTIONS.advertise.example}`,
    );
  }
  return {
    agent,
    advertise: advertised ? parseHost(advertised, "a host name or address this network's peers reach") : relayHost,
    ...optional('serviceName', service ? parseName(service) : undefined),
    ...optional('visibleKeys', visibleKeys ? parseConsulKeyPrefix(visibleKeys) : undefined),
  };
}

/** The LAN's multicast settings, parsed as the peer command parses its own. */
function lanOf(one: (key: OptionKey) => Setting | undefined, list: (key: OptionKey) => Setting[]): LanMulticast {
  const peerKeys: Partial<Record<string, OptionKey>> = {
    multicastFamily: 'multicastFamily',
    multicastInterface: 'interface',
    multicastPort: 'multicastPort',
    multicastGroupV4: 'multicastGroupV4',
    multicastGroupV6: 'multicastGroupV6',
    announceInterval: 'announceInterval',
    peerExpiry: 'peerExpiry',
  };
  const ours = (key: string) => peerKeys[key];
  const settings = discoveryOf(
    {
      one: (key) => {
        const mine = ours(key);
        return mine ? one(mine) : undefined;
      },
      list: (key) => {
        const mine = ours(key);
        return mine ? list(mine) : [];
      },
      secret: () => undefined,
      noMulticast: false,
    },
    [],
  );
  return settings.multicast || {};
}

function parseJoins(settings: Setting[]): JoinTarget[] {
  const targets = settings.map(parseJoin);
  const seen = new Set<string>();
  for (const [i, target] of targets.entries()) {
    if (seen.has(target.bridgeId)) {
      throw new ConfigError(`${settings[i]?.from} names bridge ${target.bridgeId} twice: join each bridge once`);
    }
    seen.add(target.bridgeId);
  }
  return targets;
}

function checkDistinctPorts(ports: [string, number | undefined][]): void {
  const used = new Map<number, string>();
  for (const [flag, port] of ports) {
    if (port === undefined || port === 0) continue;
    const other = used.get(port);
    if (other)
      throw new ConfigError(`${other} and ${flag} are both ${port}: give each its own port, e.g. ${flag} ${port + 1}`);
    used.set(port, flag);
  }
}

function parseDataDir(setting: Setting | undefined, homedir: string): string {
  return setting ? parsePath(setting, homedir) : join(homedir, DEFAULTS.dataDirRoot);
}

function logFileOf(setting: Setting | undefined, homedir: string): string {
  if (!setting || setting.value.trim() === '-') return '-';
  return parsePath(setting, homedir);
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
