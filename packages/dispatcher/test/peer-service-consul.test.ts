import { describe, expect, it } from 'vitest';
import { peerConsulSettings, peerServiceName } from '../src/catalog/consul/peer-registration.js';
import { type PeerServiceSettings, peerServiceSpec, serviceName } from '../src/orchestrator/swarm/service-spec.js';

const base: PeerServiceSettings = {
  image: 'p2p-messenger/peer:local',
  networkId: 'net-1',
  pool: 'eu-1',
  cpus: 0.5,
  memoryBytes: 256 * 1024 * 1024,
  placement: [],
};

function envOf(settings: PeerServiceSettings): Map<string, string> {
  const task = peerServiceSpec(settings, 'p-0123456789ab', 'peer-1').TaskTemplate as {
    ContainerSpec?: { Env?: string[] };
  };
  const env = task.ContainerSpec?.Env ?? [];
  return new Map(env.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

describe('a peer service registering in Consul', () => {
  it('carries the agent, the pool’s service and tags, and its own service name as the address others reach', () => {
    const env = envOf({ ...base, consul: peerConsulSettings('eu-1', 'http://consul:8500') });
    expect(env.get('CONSUL_HTTP_ADDR')).toBe('http://consul:8500');
    expect(env.get('P2PM_CONSUL_SERVICE')).toBe('p2pm-peer-eu-1');
    expect(env.get('P2PM_CONSUL_TAGS')).toBe('p2p-messenger,p2pm-pool=eu-1');
    // It sees (and is seen) only once claimed: the catalog's key per claimed peer.
    expect(env.get('P2PM_CONSUL_VISIBLE_KEYS')).toBe('p2p-messenger/pools/eu-1/claimed/');
    // dnsrr: the service's name resolves to its task on the overlay network.
    expect(env.get('P2PM_ADVERTISE')).toBe(serviceName('p-0123456789ab'));
    // Discovery through Consul, not through the dispatcher's catalog.
    expect(env.has('P2PM_CATALOG_URL')).toBe(false);
  });

  it('carries no Consul settings when the pool does not use Consul', () => {
    const env = envOf({ ...base, catalogUrl: 'http://dispatcher:8080/catalog/v1' });
    expect([...env.keys()].filter((key) => /CONSUL|ADVERTISE/.test(key))).toEqual([]);
    expect(env.get('P2PM_CATALOG_URL')).toBe('http://dispatcher:8080/catalog/v1');
  });

  it('names the pool’s Consul service as a DNS label, whatever the pool is called', () => {
    expect(peerServiceName('default')).toBe('p2pm-peer-default');
    expect(peerServiceName('EU_1.blue')).toBe('p2pm-peer-eu-1-blue');
    expect(peerServiceName('x'.repeat(63))).toHaveLength(63);
    // The exact pool name stays in a tag.
    expect(peerConsulSettings('EU_1.blue', 'http://consul:8500').tags).toContain('p2pm-pool=EU_1.blue');
  });

  it('tells a peer where its owner goes after logging out, when the dispatcher says where it is', () => {
    expect(envOf({ ...base, dispatcherUrl: 'https://chat.example.org/' }).get('P2PM_DISPATCHER_URL')).toBe(
      'https://chat.example.org/',
    );
    expect(envOf(base).has('P2PM_DISPATCHER_URL')).toBe(false);
  });
});
