/** The one table of the dispatcher's settings: flag, environment variable, default, help. */
export interface OptionSpec {
  readonly flag: string;
  readonly env?: string;
  readonly kind: 'string' | 'boolean';
  readonly arg?: string;
  /** The default as --help shows it (undefined: none). */
  readonly shown?: string;
  readonly help: string;
}

export const OPTIONS = {
  host: {
    flag: 'host',
    env: 'P2PM_HOST',
    kind: 'string',
    arg: 'ADDR',
    shown: '127.0.0.1',
    help: 'address to listen on',
  },
  port: {
    flag: 'port',
    env: 'P2PM_PORT',
    kind: 'string',
    arg: 'PORT',
    shown: '8080',
    help: 'port to listen on (0 = any free)',
  },
  publicUrl: {
    flag: 'public-url',
    env: 'P2PM_PUBLIC_URL',
    kind: 'string',
    arg: 'URL',
    shown: 'http://<host>:<port>',
    help: 'the URL users open (https makes cookies Secure)',
  },
  dataDir: {
    flag: 'data-dir',
    env: 'P2PM_DATA_DIR',
    kind: 'string',
    arg: 'DIR',
    shown: '~/.p2p-messenger/dispatcher',
    help: 'accounts, catalog, keys, and the peers it runs',
  },
  poolTarget: {
    flag: 'pool',
    env: 'P2PM_POOL_TARGET',
    kind: 'string',
    arg: 'N',
    shown: '2',
    help: 'vacant peers kept ready',
  },
  maxConcurrentStarts: {
    flag: 'max-starts',
    env: 'P2PM_MAX_STARTS',
    kind: 'string',
    arg: 'N',
    shown: '4',
    help: 'peers started at once',
  },
  maxWaitingUsers: {
    flag: 'max-waiting',
    env: 'P2PM_MAX_WAITING',
    kind: 'string',
    arg: 'N',
    shown: '20',
    help: 'users waiting for a new peer before others get 429',
  },
  noGuests: { flag: 'no-guests', kind: 'boolean', help: 'no one-click guest login' },
  orchestrator: {
    flag: 'orchestrator',
    env: 'P2PM_ORCHESTRATOR',
    kind: 'string',
    arg: 'KIND',
    shown: 'local',
    help: 'where peers run: local (child processes) or swarm (a Docker Swarm service each)',
  },
  peerImage: {
    flag: 'peer-image',
    env: 'P2PM_PEER_IMAGE',
    kind: 'string',
    arg: 'IMAGE',
    shown: 'p2p-messenger/peer:local',
    help: 'with --orchestrator swarm: the peer image',
  },
  swarmNetwork: {
    flag: 'swarm-network',
    env: 'P2PM_SWARM_NETWORK',
    kind: 'string',
    arg: 'NAME',
    shown: 'p2pm-peers',
    help: 'with --orchestrator swarm: the attachable overlay network of the dispatcher and its peers',
  },
  dockerHost: {
    flag: 'docker-host',
    env: 'DOCKER_HOST',
    kind: 'string',
    arg: 'ADDR',
    shown: 'unix:///var/run/docker.sock',
    help: 'with --orchestrator swarm: the Docker engine (a Swarm manager): unix:///path or tcp://host:port',
  },
  poolName: {
    flag: 'pool-name',
    env: 'P2PM_POOL_NAME',
    kind: 'string',
    arg: 'NAME',
    shown: 'default',
    help: 'this dispatcher’s pool: the label of its peer services (others are never touched) and its part of Consul KV',
  },
  advertiseUrl: {
    flag: 'advertise-url',
    env: 'P2PM_ADVERTISE_URL',
    kind: 'string',
    arg: 'URL',
    shown: 'http://<loopback>:<port>',
    help: 'where peers reach the dispatcher’s catalog (in a Swarm: http://<its service name>:<port>)',
  },
  catalog: {
    flag: 'catalog',
    env: 'P2PM_CATALOG',
    kind: 'string',
    arg: 'KIND',
    shown: 'embedded',
    help: 'who owns which peer: embedded (SQLite in the data dir) or consul (Consul KV, shared by dispatcher replicas)',
  },
  consul: {
    flag: 'consul',
    env: 'CONSUL_HTTP_ADDR',
    kind: 'string',
    arg: 'ADDR',
    shown: '127.0.0.1:8500',
    help: 'with --catalog consul: the Consul agent (host:port or http(s)://host:port)',
  },
  peersConsul: {
    flag: 'peers-consul',
    env: 'P2PM_PEERS_CONSUL',
    kind: 'string',
    arg: 'ADDR',
    shown: 'the --consul address',
    help: 'with --catalog consul: the Consul agent as the peers reach it (in a Swarm: consul:8500); peers register there and find each other through it',
  },
  router: {
    flag: 'router',
    env: 'P2PM_ROUTER',
    kind: 'string',
    arg: 'KIND',
    shown: 'embedded',
    help: 'how users reach their peer: embedded (the dispatcher proxies /p/<peerId>/) or traefik (a host per peer, by Swarm labels)',
  },
  peersDomain: {
    flag: 'peers-domain',
    env: 'P2PM_PEERS_DOMAIN',
    kind: 'string',
    arg: 'DOMAIN',
    help: 'with --router traefik: peer <peerId> is at <peerId>.<DOMAIN> (scheme and port of --public-url)',
  },
  traefikUrl: {
    flag: 'traefik-url',
    env: 'P2PM_TRAEFIK_URL',
    kind: 'string',
    arg: 'URL',
    help: 'with --router traefik: Traefik’s entry point as the dispatcher reaches it, to check that a route answers (e.g. http://traefik:80)',
  },
  traefikEntrypoints: {
    flag: 'traefik-entrypoints',
    env: 'P2PM_TRAEFIK_ENTRYPOINTS',
    kind: 'string',
    arg: 'LIST',
    shown: 'web',
    help: 'with --router traefik: the Traefik entry points of the peers’ routers, comma-separated',
  },
  trustProxy: {
    flag: 'trust-proxy',
    env: 'P2PM_TRUST_PROXY',
    kind: 'string',
    arg: 'LIST',
    shown: 'none',
    help: 'proxies in front whose X-Forwarded-For names the client: addresses or CIDRs, comma-separated',
  },
  loginAccountAttempts: {
    flag: 'login-account-attempts',
    env: 'P2PM_LOGIN_ACCOUNT_ATTEMPTS',
    kind: 'string',
    arg: 'N',
    shown: '5',
    help: 'failed log-ins to one account before each further try waits (doubling)',
  },
  loginAddressAttempts: {
    flag: 'login-address-attempts',
    env: 'P2PM_LOGIN_ADDRESS_ATTEMPTS',
    kind: 'string',
    arg: 'N',
    shown: '100',
    help: 'failed log-ins from one client address (any accounts) before each further try waits',
  },
  adminUser: {
    flag: 'admin-user',
    env: 'P2PM_ADMIN_USER',
    kind: 'string',
    arg: 'NAME',
    shown: 'admin',
    help: 'admin page user',
  },
  adminPasswordFile: {
    flag: 'admin-password-file',
    env: 'P2PM_ADMIN_PASSWORD_FILE',
    kind: 'string',
    arg: 'FILE',
    shown: '<data-dir>/admin-password (made on first start)',
    help: 'file holding the admin password',
  },
  metricsPort: {
    flag: 'metrics-port',
    env: 'P2PM_METRICS_PORT',
    kind: 'string',
    arg: 'PORT',
    shown: 'none: /metrics on the main port, admin log-in needed',
    help: 'serve Prometheus /metrics on a port of its own (0 = any free), without log-in, and not on the main port',
  },
  metricsHost: {
    flag: 'metrics-host',
    env: 'P2PM_METRICS_HOST',
    kind: 'string',
    arg: 'ADDR',
    shown: 'the --host address',
    help: 'address the metrics port listens on',
  },
  bridgeListen: {
    flag: 'bridge-listen',
    env: 'P2PM_BRIDGE_LISTEN',
    kind: 'string',
    arg: 'HOST:PORT',
    shown: 'none: no bridge',
    help: "run a bridge of its own, which other networks' bridges (a home LAN's) link to at this address",
  },
  bridgeTrust: {
    flag: 'bridge-trust',
    env: 'P2PM_BRIDGE_TRUST',
    kind: 'string',
    arg: 'ID,...',
    help: 'ids of the bridges that may link to it (each bridge prints its id when it starts)',
  },
  bridgeRelayHost: {
    flag: 'bridge-relay-host',
    env: 'P2PM_BRIDGE_RELAY_HOST',
    kind: 'string',
    arg: 'HOST',
    shown: 'the host of --advertise-url, else loopback',
    help: "where the dispatcher's peers reach its bridge",
  },
  logLevel: {
    flag: 'log-level',
    env: 'P2PM_LOG_LEVEL',
    kind: 'string',
    arg: 'LEVEL',
    shown: 'info',
    help: 'fatal … trace, silent',
  },
  logFile: {
    flag: 'log-file',
    env: 'P2PM_LOG_FILE',
    kind: 'string',
    arg: 'FILE',
    shown: '<data-dir>/dispatcher.log',
    help: '- logs to stderr',
  },
  help: { flag: 'help', kind: 'boolean', help: 'show this help' },
} as const satisfies Record<string, OptionSpec>;

export type OptionKey = keyof typeof OPTIONS;

export const DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 8080,
  dataDirUnderHome: '.p2p-messenger/dispatcher',
  poolTarget: 2,
  maxConcurrentStarts: 4,
  maxWaitingUsers: 20,
  peerImage: 'p2p-messenger/peer:local',
  swarmNetwork: 'p2pm-peers',
  poolName: 'default',
  consul: '127.0.0.1:8500',
  traefikEntrypoints: 'web',
  loginAccountAttempts: 5,
  loginAddressAttempts: 100,
  adminUser: 'admin',
  logLevel: 'info',
  logFileName: 'dispatcher.log',
});

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** --help text, from the table. */
export function usage(): string {
  const rows = Object.values(OPTIONS).map((spec: OptionSpec) => {
    const left = `--${spec.flag}${spec.arg ? ` ${spec.arg}` : ''}`;
    const right = [spec.help, spec.shown ? `(default: ${spec.shown})` : '', spec.env ? `[${spec.env}]` : '']
      .filter(Boolean)
      .join(' ');
    return `  ${left.padEnd(28)} ${right}`;
  });
  return `dispatcher: log in on a web page and get your own peer\n\nUsage: dispatcher [flags]\n\n${rows.join('\n')}\n`;
}
