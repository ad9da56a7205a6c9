import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseBridgeCommand } from '../packages/bridge/src/cli/config.js';
import { OPTIONS as BRIDGE_OPTIONS } from '../packages/bridge/src/cli/options.js';
import { parseDispatcherCommand } from '../packages/dispatcher/src/config/config.js';
import { OPTIONS, type OptionSpec } from '../packages/dispatcher/src/config/options.js';
import { traefikLabels } from '../packages/dispatcher/src/router/traefik-labels.js';
import { networkNames, type StackConfig, stackConfig } from './helpers/stack-file.js';
import { labelKeyProblem, traefikLabelProblems } from './helpers/traefik-labels.js';

const at = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const STACK = at('../deploy/swarm/stack.yml');
const LOCAL_STACK = at('../deploy/swarm/stack.local.yml');
const TYPO_STACK = at('./fixtures/stack-typo.yml');
const TRAEFIK_STATIC = at('../deploy/traefik/traefik.yml');

/** The variables the dispatcher reads, from its one table of settings. */
const DISPATCHER_ENV = new Set(Object.values(OPTIONS as Record<string, OptionSpec>).flatMap((spec) => spec.env ?? []));
const LOOKS_LIKE_A_SETTING = /^(P2PM_|CONSUL_HTTP_ADDR$)/;

async function read(file: string, env: Record<string, string> = {}): Promise<StackConfig> {
  const result = await stackConfig(file, env);
  if (!result.ok) throw new Error(`docker stack config -c ${file}: ${result.error}`);
  return result.config;
}

function environmentOf(config: StackConfig, service: string): Record<string, string> {
  const env = config.services[service]?.environment ?? {};
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value ?? '']));
}

/** The variables the bridge reads, from its one table of options. */
const BRIDGE_ENV = new Set(Object.values(BRIDGE_OPTIONS).flatMap((spec) => ('env' in spec ? [spec.env] : [])));

/** Settings a stack gives its services that the command they run (the bridge's, else the dispatcher) would not read. */
function unknownSettings(config: StackConfig): string[] {
  return Object.entries(config.services).flatMap(([name, service]) =>
    Object.keys(service.environment ?? {})
      .filter((key) => LOOKS_LIKE_A_SETTING.test(key) && !(name === 'bridge' ? BRIDGE_ENV : DISPATCHER_ENV).has(key))
      .map((key) => `${name}: ${key}`),
  );
}

/** The entry points of Traefik's static configuration (deploy/traefik/traefik.yml). */
async function entrypoints(): Promise<string[]> {
  const staticConfig = parse(await readFile(TRAEFIK_STATIC, 'utf8')) as { entryPoints?: Record<string, unknown> };
  return Object.keys(staticConfig.entryPoints ?? {});
}

describe('the stack files, as the Docker CLI reads them', () => {
  it('docker stack config accepts stack.yml and stack.local.yml', async () => {
    for (const file of [STACK, LOCAL_STACK]) expect(await stackConfig(file), file).toMatchObject({ ok: true });
  });

  it('docker stack config refuses a stack file with a typo', async () => {
    const result = await stackConfig(TYPO_STACK);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/replica/);
  });

  it('stack.local.yml takes its port, pool and network from variables, with defaults', async () => {
    const byDefault = await read(LOCAL_STACK);
    expect(environmentOf(byDefault, 'dispatcher')).toMatchObject({
      P2PM_POOL_NAME: 'local',
      P2PM_SWARM_NETWORK: 'p2pm-peers',
      P2PM_PUBLIC_URL: 'http://127.0.0.1:8080',
    });
    expect(byDefault.networks?.peers).toMatchObject({ name: 'p2pm-peers', driver: 'overlay', attachable: true });
    const chosen = await read(LOCAL_STACK, { PUBLISHED_PORT: '18080', POOL_NAME: 'mine', PEERS_NETWORK: 'my-peers' });
    expect(environmentOf(chosen, 'dispatcher')).toMatchObject({
      P2PM_POOL_NAME: 'mine',
      P2PM_SWARM_NETWORK: 'my-peers',
      P2PM_PUBLIC_URL: 'http://127.0.0.1:18080',
    });
    expect(chosen.networks?.peers?.name).toBe('my-peers');
    expect(JSON.stringify(chosen.services.dispatcher)).toContain('"published":18080');
  });

  it('stack.yml has consul, traefik, dispatcher and bridge, on the attachable overlay network p2pm-peers', async () => {
    const config = await read(STACK);
    expect(Object.keys(config.services).sort()).toEqual(['bridge', 'consul', 'dispatcher', 'traefik']);
    expect(config.networks?.peers).toMatchObject({ name: 'p2pm-peers', driver: 'overlay', attachable: true });
    for (const service of Object.values(config.services))
      expect(networkNames(config, service, 'p2pm')).toContain('p2pm-peers');
  });
});

describe('the dispatcher’s settings in the stack files', () => {
  it('every P2PM_* and CONSUL_HTTP_ADDR variable is one the dispatcher reads', async () => {
    for (const file of [STACK, LOCAL_STACK]) expect(unknownSettings(await read(file)), file).toEqual([]);
  });

  it('the check names a variable the dispatcher does not read', async () => {
    const config = await read(LOCAL_STACK);
    const dispatcher = config.services.dispatcher;
    if (!dispatcher) throw new Error('stack.local.yml has no dispatcher');
    dispatcher.environment = { ...dispatcher.environment, P2PM_POOL_TARGETS: '3' };
    expect(unknownSettings(config)).toEqual(['dispatcher: P2PM_POOL_TARGETS']);
  });

  it('the dispatcher accepts their values: a Swarm orchestrator, and Consul and Traefik in stack.yml', async () => {
    const cloud = parseDispatcherCommand([], environmentOf(await read(STACK), 'dispatcher'), '/home/operator');
    expect(cloud.kind === 'run' && cloud.config).toMatchObject({
      orchestrator: { kind: 'swarm', network: 'p2pm-peers' },
      catalog: { kind: 'consul', agent: 'http://consul:8500' },
      publicUrl: 'https://chat.example.org',
      adminPasswordFile: '/run/secrets/admin-password',
    });
    const local = parseDispatcherCommand([], environmentOf(await read(LOCAL_STACK), 'dispatcher'), '/home/operator');
    expect(local.kind === 'run' && local.config).toMatchObject({
      orchestrator: { kind: 'swarm', network: 'p2pm-peers' },
      catalog: { kind: 'embedded' },
      pool: 'local',
    });
    // A value the dispatcher refuses is found the same way.
    const wrong = { ...environmentOf(await read(LOCAL_STACK), 'dispatcher'), P2PM_POOL_TARGET: 'lots' };
    expect(() => parseDispatcherCommand([], wrong, '/home/operator')).toThrow(/P2PM_POOL_TARGET/);
  });

  it('both run the dispatcher as the Swarm e2e does: Docker socket in its group, a manager, a /data volume', async () => {
    for (const file of [STACK, LOCAL_STACK]) {
      const dispatcher = (await read(file)).services.dispatcher as unknown as Record<string, unknown>;
      expect(dispatcher.user, file).toMatch(/^1000:\d+$/);
      expect(JSON.stringify(dispatcher.volumes), file).toContain('"target":"/var/run/docker.sock"');
      expect(JSON.stringify(dispatcher.volumes), file).toContain('"target":"/data"');
      expect(JSON.stringify(dispatcher.deploy), file).toContain('node.role == manager');
    }
  });
});

describe('the bridge’s settings in stack.yml', () => {
  const HOME_BRIDGE = 'mfrggzdfmztwq2lknnwg23tpobyxe43u';

  it('every P2PM_* variable of the bridge service is one the bridge reads', async () => {
    const config = await read(STACK);
    expect(Object.keys(environmentOf(config, 'bridge')).length).toBeGreaterThan(0);
    expect(unknownSettings(config).filter((entry) => entry.startsWith('bridge:'))).toEqual([]);
    const bridge = config.services.bridge;
    if (!bridge) throw new Error('stack.yml has no bridge');
    bridge.environment = { ...bridge.environment, P2PM_BRIDGE_JOINS: 'x' };
    expect(unknownSettings(config)).toEqual(['bridge: P2PM_BRIDGE_JOINS']);
  });

  it('the bridge accepts their values: listening on 7443 for the bridges BRIDGE_TRUST names, ops on 9464', async () => {
    const env = environmentOf(await read(STACK, { BRIDGE_TRUST: HOME_BRIDGE }), 'bridge');
    const command = parseBridgeCommand([], env, '/home/operator');
    expect(command.kind === 'run' && command.config).toMatchObject({
      name: 'cloud',
      listen: { host: '0.0.0.0', port: 7443 },
      trust: [HOME_BRIDGE],
      ops: { host: '0.0.0.0', port: 9464 },
    });
    // Without BRIDGE_TRUST the bridge refuses to start, and says what to set.
    const untrusting = environmentOf(await read(STACK), 'bridge');
    expect(() => parseBridgeCommand([], untrusting, '/home/operator')).toThrow(/P2PM_BRIDGE_LISTEN .* add --trust ID/);
  });

  it('publishes the federation port in host mode and keeps the key in a volume', async () => {
    const bridge = (await read(STACK, { BRIDGE_PORT: '17443' })).services.bridge as unknown as Record<string, unknown>;
    expect(JSON.stringify(bridge.ports)).toContain('"mode":"host"');
    expect(JSON.stringify(bridge.ports)).toContain('"target":7443');
    expect(JSON.stringify(bridge.ports)).toContain('"published":17443');
    expect(JSON.stringify(bridge.volumes)).toContain('"target":"/data"');
  });
});

describe('Traefik labels in stack.yml', () => {
  it('follow Traefik v3’s documented label syntax, and refer to what exists', async () => {
    const config = await read(STACK);
    const context = { entrypoints: await entrypoints() };
    let labelled = 0;
    for (const [name, service] of Object.entries(config.services)) {
      const labels = service.deploy?.labels ?? {};
      if (Object.keys(labels).some((key) => key.startsWith('traefik.'))) labelled++;
      expect(
        traefikLabelProblems(labels, { ...context, networks: networkNames(config, service, 'p2pm') }),
        name,
      ).toEqual([]);
    }
    expect(labelled).toBeGreaterThan(0);
  });

  it('so do the labels the dispatcher writes on a peer service, for a network Traefik is on', async () => {
    const config = await read(STACK);
    const command = parseDispatcherCommand([], environmentOf(config, 'dispatcher'), '/home/operator');
    if (command.kind !== 'run') throw new Error('the dispatcher of stack.yml does not run');
    const { router, orchestrator } = command.config;
    if (router.kind !== 'traefik' || orchestrator.kind !== 'swarm') throw new Error('stack.yml: not Traefik and Swarm');
    const labels = traefikLabels('a'.repeat(32), 7480, { ...router, network: orchestrator.network });
    const traefik = config.services.traefik;
    if (!traefik) throw new Error('stack.yml has no traefik');
    const context = { entrypoints: await entrypoints(), networks: networkNames(config, traefik, 'p2pm') };
    expect(traefikLabelProblems(labels, context)).toEqual([]);
  });

  it('a typo in a key fails the check', () => {
    expect(labelKeyProblem('traefik.http.services.p2pm-dispatcher.loadbalancer.server.port')).toBeNull();
    expect(labelKeyProblem('traefik.http.services.p2pm-dispatcher.loadbalancer.server.prot')).toMatch(/prot/);
    expect(labelKeyProblem('traefik.http.routers.p2pm-dispatcher.entrypoint')).not.toBeNull();
    expect(labelKeyProblem('traefik.http.routers.p2pm-dispatcher.tls.certresolvers')).not.toBeNull();
    expect(labelKeyProblem('traefik.http.middlewares.auth.basicauth.usersfile')).toBeNull();
    expect(labelKeyProblem('traefik.http.middlewares.auth.basicauth.userfile')).toMatch(/basicauth/);
    expect(labelKeyProblem('traefik.http.middlewares.auth.basicauths.users')).toMatch(/basicauths/);
    expect(labelKeyProblem('traefik.docker.network')).not.toBeNull();
    expect(labelKeyProblem('traefik.swarm.network')).toBeNull();
  });

  it('a wrong value or reference fails the check', () => {
    const context = { entrypoints: ['web', 'websecure'], networks: ['p2pm-front'] };
    const good = {
      'traefik.enable': 'true',
      'traefik.swarm.network': 'p2pm-front',
      'traefik.http.routers.a.rule': 'Host(`chat.example.org`)',
      'traefik.http.routers.a.entrypoints': 'websecure',
      'traefik.http.routers.a.middlewares': 'https,auth@file',
      'traefik.http.routers.a.service': 'a',
      'traefik.http.middlewares.https.redirectscheme.scheme': 'https',
      'traefik.http.services.a.loadbalancer.server.port': '8080',
    };
    expect(traefikLabelProblems(good, context)).toEqual([]);
    const wrong = (change: Record<string, string>) => traefikLabelProblems({ ...good, ...change }, context);
    expect(wrong({ 'traefik.http.routers.a.rule': 'Host(chat.example.org)' })).toHaveLength(1);
    expect(wrong({ 'traefik.http.routers.a.entrypoints': 'webscure' })).toHaveLength(1);
    expect(wrong({ 'traefik.http.routers.a.middlewares': 'http' })).toHaveLength(1);
    expect(wrong({ 'traefik.http.routers.a.service': 'b' })).toHaveLength(1);
    expect(wrong({ 'traefik.swarm.network': 'p2pm-peers' })).toHaveLength(1);
    expect(wrong({ 'traefik.http.services.a.loadbalancer.server.port': 'http' })).toHaveLength(1);
  });
});
