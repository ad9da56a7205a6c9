import { isIP } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DispatcherConfigError } from '../errors.js';
import { type BridgeChoice, bridgeOf } from './bridge-config.js';
import { type CatalogChoice, catalogOf } from './catalog-config.js';
import { type DockerEngineAddress, dockerEngineOf } from './docker-host.js';
import { DEFAULTS, LOG_LEVELS, OPTIONS, type OptionKey, type OptionSpec } from './options.js';
import { type RouterChoice, routerOf } from './router-config.js';
import { dockerName, type Setting, urlOf } from './setting-values.js';

/** The validated, frozen configuration of one dispatcher process. */
export interface DispatcherConfig {
  readonly host: string;
  readonly port: number;
  /** What users open; null: derived from host and port once listening. */
  readonly publicUrl: string | null;
  readonly dataDir: string;
  readonly poolTarget: number;
  readonly maxConcurrentStarts: number;
  readonly maxWaitingUsers: number;
  readonly guests: boolean;
  /** Where peers run: child processes of this machine, or a Swarm service each. */
  readonly orchestrator:
    | { readonly kind: 'local' }
    | {
        readonly kind: 'swarm';
        readonly peerImage: string;
        readonly network: string;
        /** The engine (a Swarm manager), from --docker-host or DOCKER_HOST. */
        readonly docker: DockerEngineAddress;
      };
  /** This dispatcher's pool: the label of its peer services, and its part of Consul KV. */
  readonly pool: string;
  /** Who owns which peer: SQLite in the data dir, or Consul KV (shared by dispatcher replicas). */
  readonly catalog: CatalogChoice;
  /** How users reach their peer: the dispatcher's proxy, or Traefik (a host per peer). */
  readonly router: RouterChoice;
  /** Where peers reach the dispatcher (its catalog); null: loopback and its port. */
  readonly advertiseUrl: string | null;
  /**
   * The proxies whose X-Forwarded-For is believed (Fastify's `trustProxy`), as addresses and
   * CIDRs; null: none, the client is the socket's peer.
   */
  readonly trustProxy: readonly string[] | null;
  readonly loginAccountAttempts: number;
  readonly loginAddressAttempts: number;
  readonly adminUser: string;
  /** null: `<dataDir>/admin-password`, made on first start. */
  readonly adminPasswordFile: string | null;
  /** The dispatcher's own bridge to other networks; null: none. */
  readonly bridge: BridgeChoice | null;
  /** Where Prometheus scrapes /metrics without a log-in; null: on the main listener, behind the admin's log-in. */
  readonly metrics: { readonly host: string; readonly port: number } | null;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  /** An absolute path, or `-` for stderr. */
  readonly logFile: string;
}

export type DispatcherCommand = { kind: 'help' } | { kind: 'run'; config: DispatcherConfig };
type Env = Readonly<Record<string, string | undefined>>;

/** Flags win over environment variables; every mistake gets a message that says what to change. */
export function parseDispatcherCommand(argv: readonly string[], env: Env, homedir: string): DispatcherCommand {
  const flags = readFlags(argv[0] === '--' ? argv.slice(1) : argv);
  if (flags.has('help')) return { kind: 'help' };
  const one = (key: OptionKey): Setting | undefined => {
    const spec: OptionSpec = OPTIONS[key];
    const fromFlag = flags.get(key);
    if (fromFlag !== undefined) return { value: fromFlag, from: `--${spec.flag}` };
    const fromEnv = spec.env ? env[spec.env] : undefined;
    return fromEnv !== undefined && fromEnv !== '' && spec.env ? { value: fromEnv, from: spec.env } : undefined;
  };
  const dataDirSetting = one('dataDir');
  const dataDir = dataDirSetting ? absolute(dataDirSetting, homedir) : join(homedir, DEFAULTS.dataDirUnderHome);
  const logFile = one('logFile');
  const passwordFile = one('adminPasswordFile');
  const host = one('host')?.value.trim() || DEFAULTS.host;
  const metricsPort = whole(one('metricsPort'), 0, 65_535);
  const metricsHost = one('metricsHost');
  if (metricsHost && metricsPort === undefined) {
    throw new DispatcherConfigError(`${metricsHost.from} needs --metrics-port (or P2PM_METRICS_PORT) too`);
  }
  const config: DispatcherConfig = {
    host,
    port: whole(one('port'), 0, 65_535) ?? DEFAULTS.port,
    publicUrl: urlOf(one('publicUrl'), 'https://chat.example.org'),
    dataDir,
    poolTarget: whole(one('poolTarget'), 0, 1_000) ?? DEFAULTS.poolTarget,
    maxConcurrentStarts: whole(one('maxConcurrentStarts'), 1, 100) ?? DEFAULTS.maxConcurrentStarts,
    maxWaitingUsers: whole(one('maxWaitingUsers'), 1, 10_000) ?? DEFAULTS.maxWaitingUsers,
    guests: !flags.has('noGuests'),
    orchestrator: orchestratorOf(one),
    pool: dockerName(one('poolName'), DEFAULTS.poolName),
    catalog: catalogOf(one),
    router: routerOf(one),
    advertiseUrl: urlOf(one('advertiseUrl'), 'http://dispatcher:8080'),
    trustProxy: trustProxyOf(one('trustProxy')),
    loginAccountAttempts: whole(one('loginAccountAttempts'), 1, 1_000) ?? DEFAULTS.loginAccountAttempts,
    loginAddressAttempts: whole(one('loginAddressAttempts'), 1, 1_000_000) ?? DEFAULTS.loginAddressAttempts,
    adminUser: adminUserOf(one('adminUser')),
    adminPasswordFile: passwordFile ? absolute(passwordFile, homedir) : null,
    bridge: bridgeOf(one),
    metrics:
      metricsPort === undefined ? null : Object.freeze({ host: metricsHost?.value.trim() || host, port: metricsPort }),
    logLevel: logLevelOf(one('logLevel')),
    logFile: !logFile
      ? join(dataDir, DEFAULTS.logFileName)
      : logFile.value.trim() === '-'
        ? '-'
        : absolute(logFile, homedir),
  };
  return { kind: 'run', config: Object.freeze(config) };
}

function readFlags(argv: readonly string[]): Map<OptionKey, string> {
  const byFlag = new Map<string, OptionKey>(
    (Object.keys(OPTIONS) as OptionKey[]).map((key) => [OPTIONS[key].flag, key]),
  );
  const { tokens } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(
      Object.values(OPTIONS).map((spec: OptionSpec) => [spec.flag, { type: spec.kind }]),
    ) as Record<string, { type: 'string' | 'boolean' }>,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values = new Map<OptionKey, string>();
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      throw new DispatcherConfigError(
        `unexpected argument ${JSON.stringify(token.value)}: the dispatcher takes only flags (see --help)`,
      );
    }
    const key = byFlag.get(token.name);
    if (!key) throw new DispatcherConfigError(`unknown flag ${token.rawName} (see --help)`);
    const spec: OptionSpec = OPTIONS[key];
    if (spec.kind === 'boolean' && token.value !== undefined) {
      throw new DispatcherConfigError(`${token.rawName} takes no value`);
    }
    if (spec.kind === 'string' && (token.value === undefined || (!token.inlineValue && token.value.startsWith('--')))) {
      throw new DispatcherConfigError(`${token.rawName} needs a value (${spec.arg})`);
    }
    values.set(key, token.value ?? '');
  }
  return values;
}

function whole(setting: Setting | undefined, min: number, max: number): number | undefined {
  if (!setting) return undefined;
  const value = setting.value.trim();
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new DispatcherConfigError(
      `${setting.from} must be a whole number ${min}-${max}, got ${JSON.stringify(setting.value)}`,
    );
  }
  return Number(value);
}

function absolute(setting: Setting, homedir: string): string {
  const value = setting.value.trim();
  if (!value) throw new DispatcherConfigError(`${setting.from} must be a path`);
  const expanded = value === '~' || value.startsWith('~/') ? join(homedir, value.slice(1)) : value;
  return isAbsolute(expanded) ? expanded : resolve(expanded);
}

function orchestratorOf(one: (key: OptionKey) => Setting | undefined): DispatcherConfig['orchestrator'] {
  const kind = one('orchestrator');
  const swarmOnly = (['peerImage', 'swarmNetwork'] as const).map(one).find(Boolean);
  if (!kind || kind.value.trim() === 'local') {
    if (swarmOnly) throw new DispatcherConfigError(`${swarmOnly.from} goes with --orchestrator swarm`);
    return Object.freeze({ kind: 'local' });
  }
  if (kind.value.trim() !== 'swarm') {
    throw new DispatcherConfigError(`${kind.from} must be local or swarm, got ${JSON.stringify(kind.value)}`);
  }
  return Object.freeze({
    kind: 'swarm',
    peerImage: one('peerImage')?.value.trim() || DEFAULTS.peerImage,
    network: dockerName(one('swarmNetwork'), DEFAULTS.swarmNetwork),
    docker: dockerEngineOf(one('dockerHost')),
  });
}

function trustProxyOf(setting: Setting | undefined): readonly string[] | null {
  if (!setting) return null;
  const proxies = setting.value.split(',').map((item) => item.trim());
  const wrong = proxies.find((item) => !isAddressOrCidr(item));
  if (wrong !== undefined) {
    throw new DispatcherConfigError(
      `${setting.from} must list the proxies in front as addresses or CIDRs, comma-separated (e.g. 10.0.0.0/8,127.0.0.1); ${JSON.stringify(wrong)} is not one`,
    );
  }
  return Object.freeze(proxies);
}

function isAddressOrCidr(item: string): boolean {
  const [address = '', bits, ...rest] = item.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}

function adminUserOf(setting: Setting | undefined): string {
  if (!setting) return DEFAULTS.adminUser;
  const value = setting.value.trim();
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(value)) {
    throw new DispatcherConfigError(
      `${setting.from} must be 1-64 letters, digits or . _ -, got ${JSON.stringify(setting.value)}`,
    );
  }
  return value;
}

function logLevelOf(setting: Setting | undefined): DispatcherConfig['logLevel'] {
  if (!setting) return DEFAULTS.logLevel as DispatcherConfig['logLevel'];
  const value = setting.value.trim() as DispatcherConfig['logLevel'];
  if (!LOG_LEVELS.includes(value)) {
    throw new DispatcherConfigError(
      `${setting.from} must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(setting.value)}`,
    );
  }
  return value;
}
