import { DEFAULT_SERVICE_NAME, MULTICAST_DEFAULTS } from '@p2p-messenger/discovery';
import { MAX_ADDRESSES, MAX_NAME_LENGTH } from '../identity/identity-record.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../peer.js';
import type { SyncMode } from '../store/message-store.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const SYNC_MODES: readonly SyncMode[] = ['normal', 'full'];

interface Defaults {
  dataDirRoot: string;
  greetingPort: number;
  securePort: number;
  listen: string;
  logLevel: LogLevel;
  logFileName: string;
  sync: SyncMode;
  maxMessageBytes: number;
  interactive: boolean;
  multicastFamily: MulticastFamilyChoice;
}

export const MULTICAST_FAMILIES = ['ipv4', 'ipv6', 'both'] as const;
export type MulticastFamilyChoice = (typeof MULTICAST_FAMILIES)[number];

/** The one table of defaults. `name`, the data dir and the log file derive from other values. */
export const DEFAULTS: Readonly<Defaults> = Object.freeze({
  /** Under the home directory; the peer's own directory is `<root>/<name>`. */
  dataDirRoot: '.p2p-messenger',
  greetingPort: 7400,
  securePort: 7401,
  listen: '0.0.0.0',
  logLevel: 'info',
  /** Inside the data dir; `-` means stderr. */
  logFileName: 'peer.log',
  sync: 'normal',
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  interactive: true,
  multicastFamily: 'both',
});

/** Limits that other peers enforce on this peer's identity record. */
export { MAX_NAME_LENGTH };
export const MAX_ADVERTISED = MAX_ADDRESSES;
export const MAX_MESSAGE_BYTES_LIMIT = 64 * 1024 * 1024;

export interface OptionSpec {
  /** Long flag without the dashes. */
  readonly flag: string;
  readonly short?: string;
  readonly env?: string;
  /** `list` flags repeat; their environment variable is comma-separated. */
  readonly kind: 'string' | 'list' | 'boolean';
  /** Placeholder for the value in --help. */
  readonly arg?: string;
  /** The default as --help shows it. */
  readonly shown?: string;
  /** A valid value, for error messages. */
  readonly example?: string;
  readonly help: string;
}

export const OPTIONS = {
  name: {
    flag: 'name',
    example: 'alice',
    env: 'P2PM_NAME',
    kind: 'string',
    arg: 'NAME',
    shown: 'your OS user name',
    help: `name other peers see (at most ${MAX_NAME_LENGTH} characters)`,
  },
  dataDir: {
    flag: 'data-dir',
    example: '/tmp/alice',
    env: 'P2PM_DATA_DIR',
    kind: 'string',
    arg: 'DIR',
    shown: `~/${DEFAULTS.dataDirRoot}/<name>`,
    help: 'where the identity keys, messages and log are kept',
  },
  greetingPort: {
    flag: 'greeting-port',
    example: '7400',
    env: 'P2PM_GREETING_PORT',
    kind: 'string',
    arg: 'PORT',
    shown: String(DEFAULTS.greetingPort),
    help: 'port other peers greet this one on (0 = any free port)',
  },
  securePort: {
    flag: 'secure-port',
    example: '7401',
    env: 'P2PM_SECURE_PORT',
    kind: 'string',
    arg: 'PORT',
    shown: String(DEFAULTS.securePort),
    help: 'TLS port for messages (0 = any free port)',
  },
  listen: {
    flag: 'listen',
    example: '127.0.0.1',
    env: 'P2PM_LISTEN',
    kind: 'string',
    arg: 'HOST',
    shown: DEFAULTS.listen,
    help: 'address both ports listen on',
  },
  peers: {
    flag: 'peer',
    example: '127.0.0.1:7400',
    env: 'P2PM_PEERS',
    kind: 'list',
    arg: 'HOST:PORT',
    shown: 'none',
    help: 'greeting address of another peer to contact at start (repeatable)',
  },
  advertise: {
    flag: 'advertise',
    example: '192.168.1.20',
    env: 'P2PM_ADVERTISE',
    kind: 'list',
    arg: 'HOST',
    shown: 'none',
    help: 'address other peers can reach this one at, without port (repeatable)',
  },
  logLevel: {
    flag: 'log-level',
    example: 'debug',
    env: 'P2PM_LOG_LEVEL',
    kind: 'string',
    arg: 'LEVEL',
    shown: DEFAULTS.logLevel,
    help: LOG_LEVELS.join('|'),
  },
  logFile: {
    flag: 'log-file',
    example: '-',
    env: 'P2PM_LOG_FILE',
    kind: 'string',
    arg: 'FILE',
    shown: `<data-dir>/${DEFAULTS.logFileName}`,
    help: 'where logs go; - means stderr',
  },
  sync: {
    flag: 'sync',
    example: 'full',
    env: 'P2PM_SYNC',
    kind: 'string',
    arg: 'MODE',
    shown: DEFAULTS.sync,
    help: 'normal survives crashes; full also survives power loss (slower)',
  },
  maxMessageBytes: {
    flag: 'max-message-bytes',
    example: '65536',
    env: 'P2PM_MAX_MESSAGE_BYTES',
    kind: 'string',
    arg: 'BYTES',
    shown: `${DEFAULTS.maxMessageBytes} (1 MiB)`,
    help: 'largest message text sent or accepted',
  },
  noMulticast: {
    flag: 'no-multicast',
    kind: 'boolean',
    help: 'do not announce this peer or look for others by LAN multicast',
  },
  multicastInterface: {
    flag: 'multicast-interface',
    example: 'eth0',
    env: 'P2PM_MULTICAST_INTERFACES',
    kind: 'list',
    arg: 'NAME',
    shown: 'every non-loopback interface',
    help: 'network interface to announce on (repeatable)',
  },
  multicastFamily: {
    flag: 'multicast-family',
    example: 'ipv4',
    env: 'P2PM_MULTICAST_FAMILY',
    kind: 'string',
    arg: 'FAMILY',
    shown: DEFAULTS.multicastFamily,
    help: 'ipv4|ipv6|both',
  },
  multicastPort: {
    flag: 'multicast-port',
    example: String(MULTICAST_DEFAULTS.port),
    env: 'P2PM_MULTICAST_PORT',
    kind: 'string',
    arg: 'PORT',
    shown: String(MULTICAST_DEFAULTS.port),
    help: 'UDP port of the announcements (all peers of a LAN must agree)',
  },
  multicastGroupV4: {
    flag: 'multicast-group-v4',
    example: MULTICAST_DEFAULTS.ipv4Group,
    env: 'P2PM_MULTICAST_GROUP_V4',
    kind: 'string',
    arg: 'ADDR',
    shown: MULTICAST_DEFAULTS.ipv4Group,
    help: 'IPv4 multicast group (224.0.0.0/4)',
  },
  multicastGroupV6: {
    flag: 'multicast-group-v6',
    example: MULTICAST_DEFAULTS.ipv6Group,
    env: 'P2PM_MULTICAST_GROUP_V6',
    kind: 'string',
    arg: 'ADDR',
    shown: MULTICAST_DEFAULTS.ipv6Group,
    help: 'IPv6 multicast group (ff00::/8)',
  },
  announceInterval: {
    flag: 'announce-interval',
    example: '2000',
    env: 'P2PM_ANNOUNCE_INTERVAL_MS',
    kind: 'string',
    arg: 'MS',
    shown: String(MULTICAST_DEFAULTS.intervalMs),
    help: 'time between announcements',
  },
  peerExpiry: {
    flag: 'peer-expiry',
    example: '7000',
    env: 'P2PM_PEER_EXPIRY_MS',
    kind: 'string',
    arg: 'MS',
    shown: '3.5 announce intervals',
    help: 'a LAN peer not heard for this long is forgotten (longer than the interval)',
  },
  consul: {
    flag: 'consul',
    example: '127.0.0.1:8500',
    env: 'CONSUL_HTTP_ADDR',
    kind: 'string',
    arg: 'HOST:PORT',
    shown: 'off',
    help: 'register in, and find peers through, this Consul agent (needs --advertise)',
  },
  consulService: {
    flag: 'consul-service',
    example: DEFAULT_SERVICE_NAME,
    env: 'P2PM_CONSUL_SERVICE',
    kind: 'string',
    arg: 'NAME',
    shown: DEFAULT_SERVICE_NAME,
    help: 'Consul service name peers register under',
  },
  consulTag: {
    flag: 'consul-tag',
    example: 'lan-a',
    env: 'P2PM_CONSUL_TAGS',
    kind: 'list',
    arg: 'TAG',
    shown: 'none',
    help: 'extra tag on the Consul registration, e.g. for routing (repeatable)',
  },
  consulVisibleKeys: {
    flag: 'consul-visible-keys',
    example: 'p2p-messenger/pools/default/claimed/',
    env: 'P2PM_CONSUL_VISIBLE_KEYS',
    kind: 'string',
    arg: 'PREFIX',
    shown: 'off: every peer of the service',
    help: 'with --consul: list only peers with a key <PREFIX><peer id> in Consul KV, and none while this peer has none',
  },
  catalog: {
    flag: 'catalog',
    example: 'http://10.0.0.2:7600',
    env: 'P2PM_CATALOG_URL',
    kind: 'string',
    arg: 'URL',
    shown: 'off',
    help: 'find peers in the catalog a dispatcher serves at this http(s) URL (token: P2PM_CATALOG_TOKEN)',
  },
  webPort: {
    flag: 'web-port',
    example: '7480',
    env: 'P2PM_WEB_PORT',
    kind: 'string',
    arg: 'PORT',
    shown: 'off',
    help: "port of the owner's web server (0 = any free port); a one-time login link is printed",
  },
  dispatcherKey: {
    flag: 'dispatcher-key',
    example: '/etc/p2pm/dispatcher.pub',
    env: 'P2PM_DISPATCHER_KEY_FILE',
    kind: 'string',
    arg: 'FILE',
    shown: 'none',
    help: "the dispatcher's public key (PEM): its tickets let its users into this peer's web server",
  },
  dispatcherUrl: {
    flag: 'dispatcher-url',
    example: 'https://chat.example.com/',
    env: 'P2PM_DISPATCHER_URL',
    kind: 'string',
    arg: 'URL',
    shown: '/ on the same site',
    help: "the dispatcher's page, where the owner goes after logging out (needed when this peer has a host of its own)",
  },
  noInteractive: {
    flag: 'no-interactive',
    kind: 'boolean',
    help: 'run as a daemon: print one JSON line with id and ports, run until SIGTERM/SIGINT',
  },
  exitWithParent: {
    flag: 'exit-with-parent',
    kind: 'boolean',
    help: 'stop (gracefully) when the process that started this one ends (it may set P2PM_PARENT_PID to its pid)',
  },
  help: { flag: 'help', short: 'h', kind: 'boolean', help: 'show this help and exit' },
  version: { flag: 'version', kind: 'boolean', help: 'show the version and exit' },
} as const satisfies Record<string, OptionSpec>;

export type OptionKey = keyof typeof OPTIONS;

/**
 * Settings read from the environment only: secrets, which as flags would show in `ps`. Each
 * may also come from a file named by `fileEnv` (as Docker secrets are mounted).
 */
export const SECRETS = {
  catalogToken: {
    env: 'P2PM_CATALOG_TOKEN',
    fileEnv: 'P2PM_CATALOG_TOKEN_FILE',
    help: 'bearer token for --catalog, given by the dispatcher',
  },
} as const satisfies Record<string, { env: string; fileEnv: string; help: string }>;

export type SecretKey = keyof typeof SECRETS;
