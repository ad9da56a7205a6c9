import { DEFAULT_SERVICE_NAME, MULTICAST_DEFAULTS } from '@p2p-messenger/discovery';
import type { LogLevel, OptionSpec } from '@p2p-messenger/peer';

/** An option of the `bridge` command: a flag, its variable, and its key in a config file. */
export interface BridgeOptionSpec extends OptionSpec {
  /** What a config file must hold under this key (the key is the option's name in the table). */
  readonly json: 'string' | 'port' | 'number' | 'strings' | 'boolean';
}

interface Defaults {
  name: string;
  dataDirRoot: string;
  relayHost: string;
  relayGreetingPort: number;
  relayPort: number;
  opsHost: string;
  logLevel: LogLevel;
  logFile: string;
  multicastFamily: 'ipv4' | 'ipv6' | 'both';
}

/** The one table of defaults. The relay's ports sit beside a peer's 7400/7401 on the same host. */
export const DEFAULTS: Readonly<Defaults> = Object.freeze({
  name: 'bridge',
  /** Under the home directory. */
  dataDirRoot: '.p2p-messenger/bridge',
  relayHost: '0.0.0.0',
  relayGreetingPort: 7420,
  relayPort: 7421,
  opsHost: '127.0.0.1',
  logLevel: 'info',
  /** A daemon's logs go to stderr (the journal, `docker logs`) unless a file is named. */
  logFile: '-',
  multicastFamily: 'both',
});

/** The federation port other bridges are told to link to, in examples. */
export const EXAMPLE_FEDERATION_PORT = 7443;
const EXAMPLE_ID = 'mfrggzdfmztwq2lknnwg23tpobyxe43u';

export const OPTIONS = {
  config: {
    flag: 'config',
    env: 'P2PM_BRIDGE_CONFIG',
    kind: 'string',
    json: 'string',
    arg: 'FILE',
    example: '/etc/p2pm/bridge.json',
    shown: 'none',
    help: 'JSON file of settings, keys named like the flags in camelCase (flags and variables win)',
  },
  name: {
    flag: 'name',
    env: 'P2PM_BRIDGE_NAME',
    kind: 'string',
    json: 'string',
    arg: 'NAME',
    example: 'home',
    shown: DEFAULTS.name,
    help: "the bridge's name in its signed record",
  },
  dataDir: {
    flag: 'data-dir',
    env: 'P2PM_BRIDGE_DATA_DIR',
    kind: 'string',
    json: 'string',
    arg: 'DIR',
    example: '/var/lib/p2pm-bridge',
    shown: `~/${DEFAULTS.dataDirRoot}`,
    help: "where the bridge's key pair is kept (its id comes from it)",
  },
  listen: {
    flag: 'listen',
    env: 'P2PM_BRIDGE_LISTEN',
    kind: 'string',
    json: 'string',
    arg: 'HOST:PORT',
    example: `0.0.0.0:${EXAMPLE_FEDERATION_PORT}`,
    shown: 'off: this bridge only dials out',
    help: 'federation port where trusted bridges link to this one (port 0 = any free port)',
  },
  trust: {
    flag: 'trust',
    env: 'P2PM_BRIDGE_TRUST',
    kind: 'list',
    json: 'strings',
    arg: 'ID',
    example: EXAMPLE_ID,
    shown: 'none',
    help: 'id of a bridge allowed to link in (repeatable; each bridge prints its id when it starts)',
  },
  join: {
    flag: 'join',
    env: 'P2PM_BRIDGE_JOIN',
    kind: 'list',
    json: 'strings',
    arg: 'ID@HOST:PORT',
    example: `${EXAMPLE_ID}@bridge.example.com:${EXAMPLE_FEDERATION_PORT}`,
    shown: 'none',
    help: 'bridge to dial and keep a link to: its id (checked) and federation address (repeatable)',
  },
  lan: {
    flag: 'lan',
    env: 'P2PM_BRIDGE_LAN',
    kind: 'boolean',
    json: 'boolean',
    example: 'true',
    help: "the local side is this host's LAN: learn its peers and announce remote ones by multicast",
  },
  interface: {
    flag: 'interface',
    env: 'P2PM_BRIDGE_INTERFACES',
    kind: 'list',
    json: 'strings',
    arg: 'NAME',
    example: 'eth0',
    shown: 'every non-loopback interface',
    help: 'with --lan: network interface to use (repeatable)',
  },
  multicastFamily: {
    flag: 'multicast-family',
    env: 'P2PM_BRIDGE_MULTICAST_FAMILY',
    kind: 'string',
    json: 'string',
    arg: 'FAMILY',
    example: 'ipv4',
    shown: DEFAULTS.multicastFamily,
    help: 'with --lan: ipv4|ipv6|both',
  },
  multicastPort: {
    flag: 'multicast-port',
    env: 'P2PM_BRIDGE_MULTICAST_PORT',
    kind: 'string',
    json: 'port',
    arg: 'PORT',
    example: String(MULTICAST_DEFAULTS.port),
    shown: String(MULTICAST_DEFAULTS.port),
    help: "with --lan: UDP port of the announcements (the LAN's peers' --multicast-port)",
  },
  multicastGroupV4: {
    flag: 'multicast-group-v4',
    env: 'P2PM_BRIDGE_MULTICAST_GROUP_V4',
    kind: 'string',
    json: 'string',
    arg: 'ADDR',
    example: MULTICAST_DEFAULTS.ipv4Group,
    shown: MULTICAST_DEFAULTS.ipv4Group,
    help: 'with --lan: IPv4 multicast group (224.0.0.0/4)',
  },
  multicastGroupV6: {
    flag: 'multicast-group-v6',
    env: 'P2PM_BRIDGE_MULTICAST_GROUP_V6',
    kind: 'string',
    json: 'string',
    arg: 'ADDR',
    example: MULTICAST_DEFAULTS.ipv6Group,
    shown: MULTICAST_DEFAULTS.ipv6Group,
    help: 'with --lan: IPv6 multicast group (ff00::/8)',
  },
  announceInterval: {
    flag: 'announce-interval',
    env: 'P2PM_BRIDGE_ANNOUNCE_INTERVAL_MS',
    kind: 'string',
    json: 'number',
    arg: 'MS',
    example: '2000',
    shown: String(MULTICAST_DEFAULTS.intervalMs),
    help: 'with --lan: time between announcements',
  },
  peerExpiry: {
    flag: 'peer-expiry',
    env: 'P2PM_BRIDGE_PEER_EXPIRY_MS',
    kind: 'string',
    json: 'number',
    arg: 'MS',
    example: '7000',
    shown: '3.5 announce intervals',
    help: 'with --lan: a LAN peer not heard for this long is forgotten',
  },
  consul: {
    flag: 'consul',
    env: 'P2PM_BRIDGE_CONSUL',
    kind: 'string',
    json: 'string',
    arg: 'URL',
    example: 'http://consul:8500',
    shown: 'off',
    help: "the local side is a Consul catalog (the cloud): its agent's host:port or URL; the peers registered there are joined, and other networks' peers registered as reachable through this bridge",
  },
  consulService: {
    flag: 'consul-service',
    env: 'P2PM_BRIDGE_CONSUL_SERVICE',
    kind: 'string',
    json: 'string',
    arg: 'NAME',
    example: 'p2pm-peer-default',
    shown: DEFAULT_SERVICE_NAME,
    help: "with --consul: the peers' Consul service (a dispatcher's pool POOL: p2pm-peer-POOL)",
  },
  consulVisibleKeys: {
    flag: 'consul-visible-keys',
    env: 'P2PM_BRIDGE_CONSUL_VISIBLE_KEYS',
    kind: 'string',
    json: 'string',
    arg: 'PREFIX',
    example: 'p2p-messenger/pools/default/claimed/',
    shown: 'none: every peer of the service',
    help: "with --consul: join only the peers with a KV key PREFIX<id> (a pool's claimed peers: p2p-messenger/pools/POOL/claimed/)",
  },
  advertise: {
    flag: 'advertise',
    env: 'P2PM_BRIDGE_ADVERTISE',
    kind: 'string',
    json: 'string',
    arg: 'HOST',
    example: 'bridge',
    shown: '--relay-host, unless it listens everywhere',
    help: "with --consul: the address this network's peers reach the relay ports at (registered in Consul)",
  },
  relayHost: {
    flag: 'relay-host',
    env: 'P2PM_BRIDGE_RELAY_HOST',
    kind: 'string',
    json: 'string',
    arg: 'HOST',
    example: '0.0.0.0',
    shown: DEFAULTS.relayHost,
    help: 'address the relay ports listen on (peers of this network reach other networks there)',
  },
  relayGreetingPort: {
    flag: 'relay-greeting-port',
    env: 'P2PM_BRIDGE_RELAY_GREETING_PORT',
    kind: 'string',
    json: 'port',
    arg: 'PORT',
    example: String(DEFAULTS.relayGreetingPort),
    shown: String(DEFAULTS.relayGreetingPort),
    help: 'port of relayed greetings (0 = any free port)',
  },
  relayPort: {
    flag: 'relay-port',
    env: 'P2PM_BRIDGE_RELAY_PORT',
    kind: 'string',
    json: 'port',
    arg: 'PORT',
    example: String(DEFAULTS.relayPort),
    shown: String(DEFAULTS.relayPort),
    help: 'port of relayed TLS sessions, routed by SNI (0 = any free port)',
  },
  relayIdleTimeout: {
    flag: 'relay-idle-timeout',
    env: 'P2PM_BRIDGE_RELAY_IDLE_TIMEOUT_MS',
    kind: 'string',
    json: 'number',
    arg: 'MS',
    example: '300000',
    shown: 'the relay listener default',
    help: 'a relayed connection quiet for this long is closed',
  },
  maxRelays: {
    flag: 'max-relays',
    env: 'P2PM_BRIDGE_MAX_RELAYS',
    kind: 'string',
    json: 'number',
    arg: 'N',
    example: '1024',
    shown: '1024',
    help: 'relayed connections at once, in all (and per link, into this network)',
  },
  maxRelaysPerPeer: {
    flag: 'max-relays-per-peer',
    env: 'P2PM_BRIDGE_MAX_RELAYS_PER_PEER',
    kind: 'string',
    json: 'number',
    arg: 'N',
    example: '64',
    shown: '64',
    help: 'relayed connections at once to one peer',
  },
  maxRelaysPerSource: {
    flag: 'max-relays-per-source',
    env: 'P2PM_BRIDGE_MAX_RELAYS_PER_SOURCE',
    kind: 'string',
    json: 'number',
    arg: 'N',
    example: '32',
    shown: '32',
    help: 'relayed connections at once from one address or bridge',
  },
  opsHost: {
    flag: 'ops-host',
    env: 'P2PM_BRIDGE_OPS_HOST',
    kind: 'string',
    json: 'string',
    arg: 'HOST',
    example: '0.0.0.0',
    shown: DEFAULTS.opsHost,
    help: 'address of the ops server',
  },
  opsPort: {
    flag: 'ops-port',
    env: 'P2PM_BRIDGE_OPS_PORT',
    kind: 'string',
    json: 'port',
    arg: 'PORT',
    example: '9464',
    shown: 'off',
    help: 'port of /healthz, /readyz and Prometheus /metrics (0 = any free port)',
  },
  logLevel: {
    flag: 'log-level',
    env: 'P2PM_BRIDGE_LOG_LEVEL',
    kind: 'string',
    json: 'string',
    arg: 'LEVEL',
    example: 'debug',
    shown: DEFAULTS.logLevel,
    help: 'fatal|error|warn|info|debug|trace|silent',
  },
  logFile: {
    flag: 'log-file',
    env: 'P2PM_BRIDGE_LOG_FILE',
    kind: 'string',
    json: 'string',
    arg: 'FILE',
    example: '/var/log/p2pm-bridge.log',
    shown: '- (stderr)',
    help: 'where logs go; - means stderr',
  },
  help: { flag: 'help', short: 'h', kind: 'boolean', json: 'boolean', help: 'show this help and exit' },
  version: { flag: 'version', kind: 'boolean', json: 'boolean', help: 'show the version and exit' },
} as const satisfies Record<string, BridgeOptionSpec>;

export type OptionKey = keyof typeof OPTIONS;

/** Options that only make sense on the command line, never in a config file. */
export const COMMAND_ONLY: readonly OptionKey[] = ['config', 'help', 'version'];
