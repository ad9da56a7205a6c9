import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DiscoverySettings } from '../discovery/discovery-options.js';
import { ConfigError } from '../errors.js';
import type { PeerOptions } from '../peer-options.js';
import type { SyncMode } from '../store/message-store.js';
import {
  parseByteCount,
  parseChoice,
  parseHost,
  parseHttpUrl,
  parseName,
  parsePath,
  parsePeerAddress,
  parsePort,
  type Setting,
} from './config-values.js';
import { discoveryOf } from './discovery-config.js';
import { readFlagsOf } from './flag-table.js';
import {
  DEFAULTS,
  LOG_LEVELS,
  type LogLevel,
  MAX_ADVERTISED,
  OPTIONS,
  type OptionKey,
  SECRETS,
  type SecretKey,
  SYNC_MODES,
} from './options.js';

/** The validated, frozen configuration of one `peer` process. */
export interface CliConfig {
  readonly name: string;
  readonly dataDir: string;
  readonly greetingPort: number;
  readonly securePort: number;
  readonly listen: string;
  readonly peers: readonly string[];
  readonly advertise: readonly string[];
  readonly logLevel: LogLevel;
  /** An absolute path, or `-` for stderr. */
  readonly logFile: string;
  readonly sync: SyncMode;
  readonly maxMessageBytes: number;
  readonly interactive: boolean;
  /** Stop when the parent process goes (peers run by a dispatcher). */
  readonly exitWithParent: boolean;
  readonly discovery: DiscoverySettings;
  /** The owner's web server, when --web-port is given. */
  readonly web: { port: number; dispatcherKeyPem?: string; dispatcherUrl?: string } | null;
}

export type CliCommand = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; config: CliConfig };

export type Env = Readonly<Record<string, string | undefined>>;

/** What the defaults need from the machine; passed in so tests can fix them. */
export interface SystemInfo {
  homedir: string;
  /** The OS user name, if there is one. */
  username: string | undefined;
}

/**
 * Parses flags and environment variables (flags win) into a validated configuration.
 * Throws `ConfigError` with a message that says what to change.
 */
export function parseCommandLine(argv: readonly string[], env: Env, system: SystemInfo): CliCommand {
  // `pnpm peer -- --help` passes the separator through.
  const flags = readFlags(argv[0] === '--' ? argv.slice(1) : argv);
  if (flags.has('help')) return { kind: 'help' };
  if (flags.has('version')) return { kind: 'version' };
  const one = (key: OptionKey): Setting | undefined => {
    const spec: { flag: string; env?: string } = OPTIONS[key];
    const fromFlag = flags.get(key)?.at(-1);
    if (fromFlag !== undefined) return { value: fromFlag, from: `--${spec.flag}` };
    const fromEnv = spec.env ? env[spec.env] : undefined;
    return fromEnv && spec.env ? { value: fromEnv, from: spec.env } : undefined;
  };
  const list = (key: OptionKey): Setting[] => {
    const spec: { flag: string; env?: string } = OPTIONS[key];
    const fromFlags = flags.get(key);
    if (fromFlags) return fromFlags.map((value) => ({ value, from: `--${spec.flag}` }));
    const fromEnv = spec.env ? (env[spec.env] ?? '') : '';
    const values = fromEnv.split(',').map((v) => v.trim());
    return values.filter((v) => v !== '').map((value) => ({ value, from: spec.env ?? '' }));
  };

  const name = parseName(one('name') ?? defaultName(system));
  const dataDirSetting = one('dataDir');
  const dataDir = dataDirSetting
    ? parsePath(dataDirSetting, system.homedir)
    : join(system.homedir, DEFAULTS.dataDirRoot, name);
  const greeting = one('greetingPort');
  const secure = one('securePort');
  const greetingPort = parsePort(greeting) ?? DEFAULTS.greetingPort;
  const securePort = parsePort(secure) ?? DEFAULTS.securePort;
  if (greetingPort !== 0 && greetingPort === securePort) {
    const names = `${greeting?.from ?? '--greeting-port'} and ${secure?.from ?? '--secure-port'}`;
    throw new ConfigError(`${names} must differ (both are ${greetingPort}); e.g. --secure-port ${greetingPort + 1}`);
  }
  const advertised = list('advertise');
  if (advertised.length > MAX_ADVERTISED) {
    const from = advertised[0]?.from ?? '--advertise';
    throw new ConfigError(`${from} may name at most ${MAX_ADVERTISED} addresses, got ${advertised.length}`);
  }
  const advertise = advertised.map((s) =>
    parseHost(s, 'an IP address or host name other peers can reach, without port'),
  );
  const listen = one('listen');
  const logFile = one('logFile');
  const interactive = !flags.has('noInteractive');
  const secret = (key: SecretKey): Setting | undefined => {
    const { env: name, fileEnv } = SECRETS[key];
    const value = env[name];
    if (value) return { value, from: name };
    const file = env[fileEnv];
    return file ? { value: readSecretFile(file, fileEnv), from: fileEnv } : undefined;
  };
  const discovery = discoveryOf({ one, list, secret, noMulticast: flags.has('noMulticast') }, advertise);
  const web = webOf(one);
  const config: CliConfig = {
    name,
    dataDir,
    greetingPort,
    securePort,
    listen: listen
      ? parseHost(listen, 'an IP address or host name to listen on, e.g. 0.0.0.0 or 127.0.0.1')
      : DEFAULTS.listen,
    peers: Object.freeze(list('peers').map(parsePeerAddress)),
    advertise: Object.freeze(advertise),
    logLevel: parseChoice(one('logLevel'), LOG_LEVELS) ?? DEFAULTS.logLevel,
    logFile: logFileOf(logFile, dataDir, system.homedir),
    sync: parseChoice(one('sync'), SYNC_MODES) ?? DEFAULTS.sync,
    maxMessageBytes: parseByteCount(one('maxMessageBytes')) ?? DEFAULTS.maxMessageBytes,
    interactive,
    exitWithParent: flags.has('exitWithParent'),
    discovery,
    web,
  };
  return { kind: 'run', config: Object.freeze(config) };
}

function webOf(one: (key: OptionKey) => Setting | undefined): CliConfig['web'] {
  const port = parsePort(one('webPort'));
  const keyFile = one('dispatcherKey');
  const urlSetting = one('dispatcherUrl');
  const dispatcherUrl = parseHttpUrl(urlSetting, "the dispatcher's http(s) URL (e.g. https://chat.example.com/)");
  if (port === undefined) {
    if (keyFile) throw new ConfigError(`${keyFile.from} needs --web-port: tickets open the web server`);
    if (urlSetting) throw new ConfigError(`${urlSetting.from} needs --web-port: it is where the web page's owner goes`);
    return null;
  }
  return {
    port,
    ...(keyFile ? { dispatcherKeyPem: readDispatcherKey(keyFile) } : {}),
    ...(dispatcherUrl ? { dispatcherUrl } : {}),
  };
}

function readDispatcherKey(setting: Setting): string {
  let pem: string;
  try {
    pem = readFileSync(setting.value.trim(), 'utf8');
  } catch (err) {
    throw new ConfigError(`${setting.from}: cannot read ${setting.value} (${(err as Error).message})`);
  }
  try {
    if (createPublicKey(pem).asymmetricKeyType !== 'ed25519') throw new Error('not Ed25519');
  } catch {
    throw new ConfigError(`${setting.from}: ${setting.value} is not an Ed25519 public key in PEM form`);
  }
  return pem;
}

type FlagValues = Map<OptionKey, string[]>;

/** Reads the flags token by token, so every mistake gets its own message. */
function readFlags(argv: readonly string[]): FlagValues {
  return readFlagsOf(argv, OPTIONS, 'peer');
}

/** `-` (stderr) as it is, any other path made absolute, by default inside the data dir. */
function logFileOf(setting: Setting | undefined, dataDir: string, homedir: string): string {
  if (!setting) return join(dataDir, DEFAULTS.logFileName);
  return setting.value.trim() === '-' ? '-' : parsePath(setting, homedir);
}

function defaultName(system: SystemInfo): Setting {
  if (!system.username) {
    throw new ConfigError('--name is required (or set P2PM_NAME): the OS user name is not available as a default');
  }
  return { value: system.username, from: 'the OS user name' };
}

function readSecretFile(path: string, from: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`${from} names ${path}, which cannot be read (${(err as NodeJS.ErrnoException).code})`);
  }
}

/** The home directory and OS user name of this process. */
export function currentSystem(): SystemInfo {
  let username: string | undefined;
  try {
    username = userInfo().username;
  } catch {
    username = undefined; // no passwd entry, as in some containers: --name becomes required
  }
  return { homedir: homedir(), username };
}

/** The Peer options a parsed command line stands for. */
export function peerOptionsOf(config: CliConfig, logger: Logger): PeerOptions {
  return {
    name: config.name,
    dataDir: config.dataDir,
    listenHost: config.listen,
    greetingPort: config.greetingPort,
    securePort: config.securePort,
    advertisedAddresses: [...config.advertise],
    staticPeers: [...config.peers],
    maxMessageBytes: config.maxMessageBytes,
    sync: config.sync,
    discovery: config.discovery,
    ...(config.web ? { web: { ...config.web, host: config.listen } } : {}),
    logger,
  };
}
