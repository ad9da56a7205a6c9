import { describe, expect, it } from 'vitest';
import { parseDispatcherCommand } from '../src/config/config.js';

const run = (argv: string[], env: Record<string, string> = {}) => {
  const command = parseDispatcherCommand(argv, env, '/home/ada');
  if (command.kind !== 'run') throw new Error('expected a run');
  return command.config;
};

describe('dispatcher configuration', () => {
  it('fills in the defaults from one table, frozen', () => {
    const config = run([]);
    expect(config).toEqual({
      host: '127.0.0.1',
      port: 8080,
      publicUrl: null,
      dataDir: '/home/ada/.p2p-messenger/dispatcher',
      poolTarget: 2,
      maxConcurrentStarts: 4,
      maxWaitingUsers: 20,
      guests: true,
      orchestrator: { kind: 'local' },
      pool: 'default',
      catalog: { kind: 'embedded' },
      router: { kind: 'embedded' },
      advertiseUrl: null,
      trustProxy: null,
      loginAccountAttempts: 5,
      loginAddressAttempts: 100,
      adminUser: 'admin',
      adminPasswordFile: null,
      bridge: null,
      metrics: null,
      logLevel: 'info',
      logFile: '/home/ada/.p2p-messenger/dispatcher/dispatcher.log',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads flags and environment variables, flags first', () => {
    const env = { P2PM_PORT: '9000', P2PM_POOL_TARGET: '7', P2PM_PUBLIC_URL: 'https://chat.example.org' };
    expect(run(['--pool', '3', '--no-guests', '--data-dir', '~/d', '--log-file', '-'], env)).toMatchObject({
      port: 9000,
      poolTarget: 3,
      guests: false,
      publicUrl: 'https://chat.example.org',
      dataDir: '/home/ada/d',
      logFile: '-',
    });
    expect(parseDispatcherCommand(['--port', 'x', '--help'], {}, '/')).toEqual({ kind: 'help' });
  });

  it('runs peers as Swarm services when told to, with the image, network and pool label given', () => {
    expect(run(['--orchestrator', 'swarm']).orchestrator).toEqual({
      kind: 'swarm',
      peerImage: 'p2p-messenger/peer:local',
      network: 'p2pm-peers',
      docker: { socketPath: '/var/run/docker.sock' },
    });
    expect(run([]).pool).toBe('default');
    const env = {
      P2PM_ORCHESTRATOR: 'swarm',
      P2PM_PEER_IMAGE: 'registry.example/p2pm/peer:1.2',
      P2PM_POOL_NAME: 'eu-1',
    };
    expect(run(['--swarm-network', 'chat-peers', '--advertise-url', 'http://dispatcher:8080'], env)).toMatchObject({
      orchestrator: { kind: 'swarm', peerImage: 'registry.example/p2pm/peer:1.2', network: 'chat-peers' },
      pool: 'eu-1',
      advertiseUrl: 'http://dispatcher:8080',
    });
  });

  it('reaches the Docker engine where --docker-host or DOCKER_HOST says, as a socket or over TCP', () => {
    const swarm = ['--orchestrator', 'swarm'];
    const docker = (argv: string[], env: Record<string, string> = {}) => {
      const { orchestrator } = run([...swarm, ...argv], env);
      return orchestrator.kind === 'swarm' ? orchestrator.docker : null;
    };
    expect(docker([], { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' })).toEqual({
      socketPath: '/run/user/1000/docker.sock',
    });
    expect(docker(['--docker-host', '/tmp/d.sock'], { DOCKER_HOST: 'tcp://engine:2375' })).toEqual({
      socketPath: '/tmp/d.sock',
    });
    expect(docker([], { DOCKER_HOST: 'tcp://engine:2375' })).toEqual({ host: 'engine', port: 2375, protocol: 'http' });
    expect(docker(['--docker-host', 'tcp://[::1]:2375'])).toEqual({ host: '::1', port: 2375, protocol: 'http' });
  });

  it('keeps who owns which peer in Consul KV when told to, at the agent given', () => {
    expect(run(['--catalog', 'consul']).catalog).toEqual({
      kind: 'consul',
      agent: 'http://127.0.0.1:8500',
      peersAgent: 'http://127.0.0.1:8500',
    });
    expect(run([], { P2PM_CATALOG: 'consul', CONSUL_HTTP_ADDR: 'consul:8500' }).catalog).toEqual({
      kind: 'consul',
      agent: 'http://consul:8500',
      peersAgent: 'http://consul:8500',
    });
    expect(run(['--catalog', 'consul', '--consul', 'https://10.0.0.5:8501']).catalog).toEqual({
      kind: 'consul',
      agent: 'https://10.0.0.5:8501',
      peersAgent: 'https://10.0.0.5:8501',
    });
    // Peers may reach the agent at another address than the dispatcher does.
    expect(
      run([], { P2PM_CATALOG: 'consul', CONSUL_HTTP_ADDR: '127.0.0.1:8500', P2PM_PEERS_CONSUL: 'consul:8500' }).catalog,
    ).toEqual({ kind: 'consul', agent: 'http://127.0.0.1:8500', peersAgent: 'http://consul:8500' });
  });

  it('routes users to a host per peer through Traefik when told to', () => {
    const swarm = ['--orchestrator', 'swarm'];
    expect(
      run([
        ...swarm,
        '--router',
        'traefik',
        '--peers-domain',
        'Peers.Example.org.',
        '--traefik-url',
        'http://traefik:80',
      ]).router,
    ).toEqual({
      kind: 'traefik',
      peersDomain: 'peers.example.org',
      traefikUrl: 'http://traefik',
      entrypoints: ['web'],
    });
    const env = {
      P2PM_ORCHESTRATOR: 'swarm',
      P2PM_ROUTER: 'traefik',
      P2PM_PEERS_DOMAIN: 'p.chat.example.org',
      P2PM_TRAEFIK_URL: 'http://traefik:8000',
      P2PM_TRAEFIK_ENTRYPOINTS: 'web, websecure,web',
    };
    expect(run([], env).router).toEqual({
      kind: 'traefik',
      peersDomain: 'p.chat.example.org',
      traefikUrl: 'http://traefik:8000',
      entrypoints: ['web', 'websecure'],
    });
    expect(run(['--router', 'embedded']).router).toEqual({ kind: 'embedded' });
  });

  it('runs a bridge of its own when told where to listen and whom to let in', () => {
    const [a, b] = ['a'.repeat(32), 'b'.repeat(32)];
    expect(run(['--bridge-listen', '0.0.0.0:7443', '--bridge-trust', `${a}, ${b},${a}`]).bridge).toEqual({
      listen: { host: '0.0.0.0', port: 7443 },
      trust: [a, b],
      relayHost: null,
    });
    const env = { P2PM_BRIDGE_LISTEN: '[::]:7443', P2PM_BRIDGE_TRUST: a, P2PM_BRIDGE_RELAY_HOST: 'dispatcher' };
    expect(run([], env).bridge).toEqual({ listen: { host: '::', port: 7443 }, trust: [a], relayHost: 'dispatcher' });
  });

  it('trusts X-Forwarded-For only from the proxies it is given', () => {
    expect(run(['--trust-proxy', '10.0.0.0/8, 127.0.0.1,fd00::/8']).trustProxy).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
      'fd00::/8',
    ]);
    expect(run([], { P2PM_TRUST_PROXY: '10.0.1.5' }).trustProxy).toEqual(['10.0.1.5']);
    expect(run(['--host', '0.0.0.0', '--metrics-port', '9464']).metrics).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(run(['--metrics-port', '9464', '--metrics-host', '10.0.0.2']).metrics).toEqual({
      host: '10.0.0.2',
      port: 9464,
    });
    expect(run(['--login-account-attempts', '3', '--login-address-attempts', '1000'])).toMatchObject({
      loginAccountAttempts: 3,
      loginAddressAttempts: 1000,
    });
  });

  it.each([
    [['--port', '70000'], '--port must be a whole number 0-65535, got "70000"'],
    [['--pool', 'many'], '--pool must be a whole number 0-1000'],
    [['--max-starts', '0'], '--max-starts must be a whole number 1-100'],
    [['--public-url', 'chat.example.org'], '--public-url must be a URL such as https://chat.example.org'],
    [['--public-url', 'https://chat.example.org/app'], 'of a site root (no path)'],
    [['--log-level', 'loud'], '--log-level must be one of fatal, error'],
    [['--admin-user', 'a b'], '--admin-user must be 1-64 letters'],
    [['--prot', '1'], 'unknown flag --prot'],
    [['--port'], '--port needs a value'],
    [['--no-guests=yes'], '--no-guests takes no value'],
    [['serve'], 'unexpected argument "serve"'],
    [['--orchestrator', 'k8s'], '--orchestrator must be local or swarm, got "k8s"'],
    [['--peer-image', 'x'], '--peer-image goes with --orchestrator swarm'],
    [['--orchestrator', 'swarm', '--docker-host', 'ssh://manager'], "--docker-host must be the Docker engine's socket"],
    [['--orchestrator', 'swarm', '--docker-host', 'unix://'], 'or tcp://host:port, got "unix://"'],
    [['--orchestrator', 'swarm', '--docker-host', 'tcp://engine'], 'or tcp://host:port, got "tcp://engine"'],
    [['--catalog', 'etcd'], '--catalog must be embedded or consul, got "etcd"'],
    [['--catalog', 'consul', '--consul', 'consul:8500/v1'], '--consul must be the Consul agent as host:port'],
    [['--catalog', 'consul', '--peers-consul', 'consul:x'], '--peers-consul must be the Consul agent as host:port'],
    [['--peers-consul', 'consul:8500'], '--peers-consul goes with --catalog consul'],
    [['--orchestrator', 'swarm', '--pool-name', 'a b'], '--pool-name must be 1-63 letters, digits or . _ -'],
    [['--advertise-url', 'dispatcher:8080'], '--advertise-url must be an http(s) URL of a site root'],
    [['--advertise-url', 'not a url'], '--advertise-url must be a URL such as http://dispatcher:8080'],
    [['--trust-proxy', 'true'], '"true" is not one'],
    [['--trust-proxy', '10.0.0.0/33'], 'must list the proxies in front as addresses or CIDRs'],
    [['--trust-proxy', '10.0.0.1,'], '"" is not one'],
    [['--trust-proxy', 'traefik'], '"traefik" is not one'],
    [['--metrics-host', '0.0.0.0'], '--metrics-host needs --metrics-port (or P2PM_METRICS_PORT) too'],
    [['--metrics-port', '99999'], '--metrics-port must be a whole number 0-65535'],
    [['--router', 'nginx'], '--router must be embedded or traefik, got "nginx"'],
    [['--router', 'traefik'], '--router traefik needs --orchestrator swarm'],
    [['--orchestrator', 'swarm', '--router', 'traefik', '--traefik-url', 'http://traefik'], 'needs --peers-domain'],
    [['--orchestrator', 'swarm', '--router', 'traefik', '--peers-domain', 'p.example.org'], 'needs --traefik-url'],
    [
      [
        '--orchestrator',
        'swarm',
        '--router',
        'traefik',
        '--peers-domain',
        'p_x.example.org',
        '--traefik-url',
        'http://t',
      ],
      '--peers-domain must be a DNS name',
    ],
    [
      [
        '--orchestrator',
        'swarm',
        '--router',
        'traefik',
        '--peers-domain',
        'p.example.org',
        '--traefik-url',
        'traefik 80',
      ],
      '--traefik-url must be a URL such as http://traefik:80',
    ],
    [
      ['--orchestrator', 'swarm', '--router', 'traefik', '--peers-domain', 'p.org', '--traefik-url', 'http://t/x'],
      '--traefik-url must be an http(s) URL of a site root',
    ],
    [
      [
        '--orchestrator',
        'swarm',
        '--router',
        'traefik',
        '--peers-domain',
        'p.org',
        '--traefik-url',
        'http://t',
        '--traefik-entrypoints',
        'web,',
      ],
      '--traefik-entrypoints must list Traefik entry point names, comma-separated (e.g. web,websecure); "" is not one',
    ],
    [['--peers-domain', 'p.example.org'], '--peers-domain goes with --router traefik'],
    [['--traefik-entrypoints', 'web'], '--traefik-entrypoints goes with --router traefik'],
    [['--login-address-attempts', '0'], '--login-address-attempts must be a whole number 1-1000000'],
    [['--bridge-listen', '0.0.0.0:7443'], '--bridge-listen needs --bridge-trust (or P2PM_BRIDGE_TRUST)'],
    [['--bridge-trust', 'a'.repeat(32)], '--bridge-trust goes with --bridge-listen'],
    [['--bridge-relay-host', 'dispatcher'], '--bridge-relay-host goes with --bridge-listen'],
    [
      ['--bridge-listen', '7443', '--bridge-trust', 'a'.repeat(32)],
      '--bridge-listen must be HOST:PORT (e.g. 0.0.0.0:7443',
    ],
    [['--bridge-listen', 'h:99999', '--bridge-trust', 'a'.repeat(32)], '--bridge-listen must be HOST:PORT'],
    [['--bridge-listen', 'h:1', '--bridge-trust', 'home-bridge'], '"home-bridge" is not one'],
    [['--bridge-listen', 'h:1', '--bridge-trust', ','], '--bridge-trust must list bridge ids, comma-separated'],
    [
      ['--bridge-listen', 'h:1', '--bridge-trust', 'a'.repeat(32), '--bridge-relay-host', 'a b'],
      '--bridge-relay-host must be a host name or an address',
    ],
  ])('refuses %j with a message that says what to change', (argv, message) => {
    expect(() => run(argv)).toThrow(message);
    try {
      run(argv);
    } catch (err) {
      expect((err as Error).name).toBe('DispatcherConfigError');
    }
  });
});
