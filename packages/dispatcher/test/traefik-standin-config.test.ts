import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildRoutingTable } from './helpers/traefik-standin/routing-table.js';
import { hostsOfRule } from './helpers/traefik-standin/rules.js';
import { readStaticConfig } from './helpers/traefik-standin/static-config.js';
import type { DiscoveredService } from './helpers/traefik-standin/swarm-discovery.js';
import { TRAEFIK_YML } from './helpers/traefik-standin.js';

const config = readStaticConfig(readFileSync(TRAEFIK_YML, 'utf8'));

function service(
  name: string,
  labels: Record<string, string>,
  tasks: Record<string, string>[] = [{ 'p2pm-peers': '10.0.1.5' }],
) {
  return { name, labels, tasks: tasks.map((t) => new Map(Object.entries(t))) } satisfies DiscoveredService;
}

const peerLabels = (id: string) => ({
  'traefik.enable': 'true',
  [`traefik.http.routers.p2pm-${id}.rule`]: `Host(\`${id}.peers.example.org\`)`,
  [`traefik.http.routers.p2pm-${id}.entrypoints`]: 'web',
  [`traefik.http.services.p2pm-${id}.loadbalancer.server.port`]: '7480',
  'traefik.swarm.network': 'p2pm-peers',
});

describe('the Traefik stand-in reads configuration as Traefik v3 does', () => {
  it('takes the entry points, the Swarm provider and the throttle from deploy/traefik/traefik.yml', () => {
    expect(Object.fromEntries(config.entryPoints)).toEqual({ web: 80 });
    expect(config.swarm).toEqual({
      endpoint: 'unix:///var/run/docker.sock',
      exposedByDefault: false,
      network: 'p2pm-peers',
      refreshMs: 2_000,
    });
    expect(config.throttleMs).toBe(1_000);
    expect(config.notes.join('\n')).toMatch(/websecure has TLS/);
    expect(config.notes.join('\n')).toMatch(/provider file/);
  });

  it('has Traefik’s defaults where the file says nothing, and refuses what it cannot read', () => {
    const bare = readStaticConfig('entryPoints:\n  web:\n    address: :8000\nproviders:\n  swarm: {}\n');
    expect(bare.swarm).toMatchObject({ exposedByDefault: true, network: null, refreshMs: 15_000 });
    expect(bare.throttleMs).toBe(2_000);
    expect(
      readStaticConfig('entryPoints:\n  web:\n    address: ":81"\nproviders:\n  swarm:\n    refreshSeconds: 3\n').swarm
        .refreshMs,
    ).toBe(3_000);
    expect(() => readStaticConfig('entryPoints: {web: {address: ":80"}}\n')).toThrow(/beyond this YAML subset/);
    expect(() => readStaticConfig('entryPoints:\n  web:\n    address: "80"\nproviders:\n  swarm: {}\n')).toThrow(
      /not \[host\]:port/,
    );
    expect(() => readStaticConfig('entryPoints:\n  web:\n    address: ":80"\nproviders:\n  docker: {}\n')).toThrow(
      /providers.swarm: missing/,
    );
    expect(() =>
      readStaticConfig('entryPoints:\n  web:\n    address: ":80"\nproviders:\n  swarm:\n    refreshSeconds: soon\n'),
    ).toThrow(/not a duration/);
  });

  it('reads Host rules joined by || and refuses any other rule rather than guessing', () => {
    expect(hostsOfRule('Host(`A.example.org`) || Host("b.example.org")')).toEqual(['a.example.org', 'b.example.org']);
    expect(() => hostsOfRule('Host(`a.example.org`) && PathPrefix(`/p`)')).toThrow(/only Host/);
    expect(() => hostsOfRule('Host(`a.example.org`, `b.example.org`)')).toThrow(/only Host/);
    expect(() => hostsOfRule('HostRegexp(`.+`)')).toThrow(/only Host/);
    expect(() => hostsOfRule('Host(`a.example.org`')).toThrow(/unbalanced/);
  });

  it('routes only enabled services, with the only service of their labels, to task addresses on the network', () => {
    const table = buildRoutingTable(
      [
        service('p2pm-peer-a', peerLabels('a')),
        service('other', { 'traefik.http.routers.x.rule': 'Host(`x.example.org`)' }),
        service('stopped', peerLabels('s'), []),
      ],
      config,
    );
    expect(table.routes).toEqual([
      {
        router: 'p2pm-a',
        hosts: ['a.peers.example.org'],
        entryPoints: ['web'],
        servers: ['http://10.0.1.5:7480'],
        priority: 'Host(`a.peers.example.org`)'.length,
      },
    ]);
    expect(table.problems).toEqual([]);
  });

  it('skips a whole service whose labels have a field Traefik does not know, or one it knows and the stand-in does not do', () => {
    const typo = { ...peerLabels('a'), 'traefik.http.services.p2pm-a.loadbalancer.server.prot': '7480' };
    const middleware = { ...peerLabels('b'), 'traefik.http.routers.p2pm-b.middlewares': 'auth' };
    const table = buildRoutingTable([service('sa', typo), service('sb', middleware)], config);
    expect(table.routes).toEqual([]);
    expect(table.problems).toEqual([
      'skip service sa: traefik.http.services.p2pm-a.loadbalancer.server.prot: field not found, node: server.prot',
      'skip service sb: traefik.http.routers.p2pm-b.middlewares: Traefik knows middlewares, the stand-in does not do it',
    ]);
  });

  it('leaves out routers with an unknown entry point, a missing port, or a name two services define differently', () => {
    const wrongEntry = { ...peerLabels('a'), 'traefik.http.routers.p2pm-a.entrypoints': 'webb' };
    const { 'traefik.http.services.p2pm-b.loadbalancer.server.port': _, ...noPort } = peerLabels('b');
    const twice = { ...peerLabels('c'), 'traefik.http.routers.p2pm-c.rule': 'Host(`elsewhere.example.org`)' };
    const table = buildRoutingTable(
      [service('sa', wrongEntry), service('sb', noPort), service('sc', peerLabels('c')), service('sc2', twice)],
      config,
    );
    expect(table.routes).toEqual([]);
    expect(table.problems.join('\n')).toMatch(/entryPoint "webb" doesn't exist/);
    expect(table.problems.join('\n')).toMatch(/port is missing/);
    expect(table.problems.join('\n')).toMatch(/p2pm-c defined multiple times with different configurations/);
  });

  it('takes the network of traefik.swarm.network, else the provider’s, else another one the task has', () => {
    const tasks = [{ front: '10.0.9.9', 'p2pm-peers': '10.0.1.7' }];
    const onPeers = buildRoutingTable([service('a', peerLabels('a'), tasks)], config);
    expect(onPeers.routes[0]?.servers).toEqual(['http://10.0.1.7:7480']);
    const onFront = buildRoutingTable(
      [service('a', { ...peerLabels('a'), 'traefik.swarm.network': 'front' }, tasks)],
      config,
    );
    expect(onFront.routes[0]?.servers).toEqual(['http://10.0.9.9:7480']);
    const missing = buildRoutingTable([service('a', peerLabels('a'), [{ front: '10.0.9.9' }])], config);
    expect(missing.routes[0]?.servers).toEqual(['http://10.0.9.9:7480']);
    expect(missing.problems.join('\n')).toMatch(/could not find network named "p2pm-peers"/);
  });
});
