import { isIP } from 'node:net';
import { homedir, userInfo } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ConfigError } from '../errors.js';
import type { SyncMode } from '../store/message-store.js';
import { parseHostPort } from '../util/address.js';
import {
  DEFAULTS,
  LOG_LEVELS,
  type LogLevel,
  MAX_ADVERTISED,
  MAX_MESSAGE_BYTES_LIMIT,
  MAX_NAME_LENGTH,
  OPTIONS,
  type OptionKey,
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
}

export type CliCommand = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; config: CliConfig };

export type Env = Readonly<Record<string, string | undefined>>;

/** What the defaults need from the machine; passed in so tests can fix them. */
export interface SystemInfo {
  homedir: string;
  /** The OS user name, if there is one. */
  username: string | undefined;
}

/** A raw value and where it came from (`--flag` or `ENV_VAR`), for error messages. */
interface Setting {
  value: string;
  from: string;
}

/**
 * Parses flags and environment variables (flags win) into a validated configuration.
 * Throws `ConfigError` with a message that says what to change.
 */
export function parseCommandLine(argv: readonly string[], env: Env, system: SystemInfo): CliCommand {
  const flags = readFlags(argv);
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
    ? parsePath(dataDirSetting, system)
    : join(system.homedir, DEFAULTS.dataDirRoot, name);
  const greetingPort = parsePort(one('greetingPort')) ?? DEFAULTS.greetingPort;
  const securePort = parsePort(one('securePort')) ?? DEFAULTS.securePort;
  if (greetingPort !== 0 && greetingPort === securePort) {
    throw new ConfigError(
      `--greeting-port and --secure-port must differ (both are ${greetingPort}); e.g. --secure-port ${greetingPort + 1}`,
    );
  }
  const advertise = list('advertise').map((s) => parseHost(s, 'an IP address or host name other peers can reach, without port'));
  if (advertise.length > MAX_ADVERTISED) {
    throw new ConfigError(`--advertise may be given at most ${MAX_ADVERTISED} times, got ${advertise.length}`);
  }
  const listen = one('listen');
  const logFile = one('logFile');
  const interactive = !flags.has('noInteractive');
  const config: CliConfig = {
    name,
    dataDir,
    greetingPort,
    securePort,
    listen: listen ? parseHost(listen, 'an IP address or host name to listen on, e.g. 0.0.0.0 or 127.0.0.1') : DEFAULTS.listen,
    peers: Object.freeze(list('peers').map(parsePeerAddress)),
    advertise: Object.freeze(advertise),
    logLevel: parseChoice(one('logLevel'), LOG_LEVELS) ?? DEFAULTS.logLevel,
    logFile: logFile?.value === '-' ? '-' : logFile ? parsePath(logFile, system) : join(dataDir, DEFAULTS.logFileName),
    sync: parseChoice(one('sync'), SYNC_MODES) ?? DEFAULTS.sync,
    maxMessageBytes: parseByteCount(one('maxMessageBytes')) ?? DEFAULTS.maxMessageBytes,
    interactive,
  };
  return { kind: 'run', config: Object.freeze(config) };
}

type FlagValues = Map<OptionKey, string[]>;

const KEY_BY_FLAG = new Map<string, OptionKey>(
  (Object.keys(OPTIONS) as OptionKey[]).map((key) => [OPTIONS[key].flag, key]),
);

const PARSE_OPTIONS: ParseArgsConfig['options'] = Object.fromEntries(
  Object.values(OPTIONS).map((spec) => [
    spec.flag,
    {
      type: spec.kind === 'boolean' ? 'boolean' : 'string',
      multiple: spec.kind === 'list',
      ...('short' in spec ? { short: spec.short } : {}),
    },
  ]),
);

/** Reads the flags token by token, so every mistake gets its own message. */
function readFlags(argv: readonly string[]): FlagValues {
  const { tokens } = parseArgs({
    args: [...argv],
    options: PARSE_OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: FlagValues = new Map();
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      throw new ConfigError(`unexpected argument ${JSON.stringify(token.value)}: peer takes only flags`);
    }
    const key = KEY_BY_FLAG.get(token.name);
    if (!key) throw new ConfigError(`unknown flag ${token.rawName}`);
    const spec = OPTIONS[key];
    const value = token.value ?? '';
    if (spec.kind === 'boolean') {
      if (token.value !== undefined) throw new ConfigError(`${token.rawName} takes no value`);
    } else if (token.value === undefined || (!token.inlineValue && value.startsWith('--'))) {
      throw new ConfigError(`${token.rawName} needs a value, e.g. --${spec.flag} ${exampleOf(key)}`);
    }
    values.set(key, [...(values.get(key) ?? []), value]);
  }
  return values;
}

function exampleOf(key: OptionKey): string {
  const examples: Partial<Record<OptionKey, string>> = {
    name: 'alice',
    dataDir: '/tmp/alice',
    peers: '127.0.0.1:7400',
    advertise: '192.168.1.20',
    listen: '127.0.0.1',
    sync: 'full',
    logLevel: 'debug',
    logFile: '-',
  };
  return examples[key] ?? '0';
}

function defaultName(system: SystemInfo): Setting {
  if (!system.username) {
    throw new ConfigError('--name is required (or set P2PM_NAME): the OS user name is not available as a default');
  }
  return { value: system.username, from: 'the OS user name' };
}

function parseName(setting: Setting): string {
  const value = setting.value.trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
  if (value.length < 1 || value.length > MAX_NAME_LENGTH || /[/\\\u0000-\u001f\u007f]/.test(value)) {
    throw new ConfigError(
      `${setting.from} must be 1-${MAX_NAME_LENGTH} characters without "/", "\\" or control characters, got ${JSON.stringify(setting.value)}`,
    );
  }
  return value;
}

function parsePath(setting: Setting, system: SystemInfo): string {
  const value = setting.value.trim();
  if (!value) throw new ConfigError(`${setting.from} must be a path, got ${JSON.stringify(setting.value)}`);
  const expanded = value === '~' || value.startsWith('~/') ? join(system.homedir, value.slice(1)) : value;
  return isAbsolute(expanded) ? expanded : resolve(expanded);
}

function parsePort(setting: Setting | undefined): number | undefined {
  if (!setting) return undefined;
  const value = setting.value.trim();
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535) {
    throw new ConfigError(`${setting.from} must be a port number 0-65535, got ${JSON.stringify(setting.value)}`);
  }
  return Number(value);
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function parseHost(setting: Setting, what: string): string {
  const value = setting.value.trim();
  if (!isIP(value) && !HOST_NAME.test(value)) {
    throw new ConfigError(`${setting.from} must be ${what}, got ${JSON.stringify(setting.value)}`);
  }
  return value;
}

function parsePeerAddress(setting: Setting): string {
  const address = parseHostPort(setting.value);
  if (!address) {
    throw new ConfigError(
      `${setting.from} must be host:port, the greeting address of another peer (e.g. 127.0.0.1:7400), got ${JSON.stringify(setting.value)}`,
    );
  }
  return setting.value.trim();
}

function parseChoice<T extends string>(setting: Setting | undefined, choices: readonly T[]): T | undefined {
  if (!setting) return undefined;
  const value = setting.value.trim().toLowerCase();
  const choice = choices.find((c) => c === value);
  if (!choice) {
    throw new ConfigError(`${setting.from} must be one of ${choices.join(', ')}, got ${JSON.stringify(setting.value)}`);
  }
  return choice;
}

function parseByteCount(setting: Setting | undefined): number | undefined {
  if (!setting) return undefined;
  const value = setting.value.trim();
  const bytes = Number(value);
  if (!/^\d+$/.test(value) || bytes < 1 || bytes > MAX_MESSAGE_BYTES_LIMIT) {
    throw new ConfigError(
      `${setting.from} must be a whole number of bytes from 1 to ${MAX_MESSAGE_BYTES_LIMIT}, got ${JSON.stringify(setting.value)}`,
    );
  }
  return bytes;
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
