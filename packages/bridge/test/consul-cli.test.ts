import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess } from '../../peer/test/helpers/cli-process.js';
import { type BridgeConfig, parseBridgeCommand } from '../src/cli/config.js';
import { usage } from '../src/cli/help.js';
import { BRIDGE_MAIN, cleanEnv } from './cli-process.js';

const HOME = '/home/operator';

function configOf(argv: string[], env: Record<string, string> = {}): BridgeConfig {
  const command = parseBridgeCommand(argv, env, HOME);
  if (command.kind !== 'run') throw new Error(`not a run: ${command.kind}`);
  return command.config;
}

describe('the bridge command’s Consul side', () => {
  const dirs: string[] = [];
  const processes: CliProcess[] = [];
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.kill()));
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('takes the agent, the peers’ service, who may be seen and its own address from flags', () => {
    const config = configOf([
      '--consul',
      'http://consul:8500',
      '--consul-service',
      'p2pm-peer-default',
      '--consul-visible-keys',
      'p2p-messenger/pools/default/claimed/',
      '--advertise',
      'bridge',
    ]);
    expect(config.consul).toEqual({
      agent: 'http://consul:8500',
      serviceName: 'p2pm-peer-default',
      visibleKeys: 'p2p-messenger/pools/default/claimed/',
      advertise: 'bridge',
    });
    expect(config.lan).toBeNull();
  });

  it('takes them from variables and from a config file too, flags first', async () => {
    const fromEnv = configOf([], { P2PM_BRIDGE_CONSUL: 'consul:8500', P2PM_BRIDGE_ADVERTISE: '10.0.9.2' });
    expect(fromEnv.consul).toEqual({ agent: 'consul:8500', advertise: '10.0.9.2' });
    const dir = await mkdtemp(join(tmpdir(), 'p2pm-bridge-consul-'));
    dirs.push(dir);
    const file = join(dir, 'bridge.json');
    await writeFile(file, JSON.stringify({ consul: 'consul:8500', consulService: 'p2pm-peer-x', advertise: 'bridge' }));
    const fromFile = configOf(['--config', file, '--advertise', 'other']);
    expect(fromFile.consul).toEqual({ agent: 'consul:8500', serviceName: 'p2pm-peer-x', advertise: 'other' });
  });

  it('advertises the relay’s own address when it listens on one', () => {
    expect(configOf(['--consul', 'consul:8500', '--relay-host', '10.0.9.7']).consul?.advertise).toBe('10.0.9.7');
  });

  it.each([
    [['--consul', 'consul:8500'], /--consul needs --advertise HOST .*the relay listens on 0\.0\.0\.0/],
    [['--lan', '--consul', 'consul:8500'], /--lan and --consul both name the local side: a bridge joins one network/],
    [[], /no local side is configured: pass --lan .* or pass --consul URL/],
    [['--lan', '--consul-service', 'p2pm-peer-x'], /--consul-service goes with --consul URL/],
    [['--lan', '--advertise', 'bridge'], /--advertise goes with --consul URL/],
    [['--consul', 'consul:8500', '--advertise', 'bridge', '--interface', 'eth0'], /--interface goes with --lan/],
    [['--consul', 'not an agent', '--advertise', 'bridge'], /--consul must be the Consul agent's host:port or URL/],
    [
      ['--consul', 'consul:8500', '--advertise', 'bridge', '--consul-visible-keys', '/pools/'],
      /--consul-visible-keys must be a Consul KV prefix/,
    ],
    [['--consul', 'consul:8500', '--advertise', 'a bridge'], /--advertise must be a host name or address/],
  ])('refuses %j with its message and exit code 2', async (args, message) => {
    expect(() => parseBridgeCommand(args, {}, HOME)).toThrow(message);
    const started = new CliProcess('bridge', args, cleanEnv(), { script: BRIDGE_MAIN });
    processes.push(started);
    const exit = await started.exited;
    expect(started.output('stderr')).toMatch(message);
    expect(exit.code).toBe(2);
  });

  it('says what to set in the environment when both sides come from variables', () => {
    expect(() => parseBridgeCommand([], { P2PM_BRIDGE_LAN: 'true', P2PM_BRIDGE_CONSUL: 'consul:8500' }, HOME)).toThrow(
      /P2PM_BRIDGE_LAN and P2PM_BRIDGE_CONSUL both name the local side/,
    );
  });

  it('explains --consul in --help, with an example for a dispatcher’s pool', () => {
    const text = usage();
    expect(text).toMatch(/--consul URL +the local side is a Consul catalog/);
    expect(text).toContain('--consul-visible-keys p2p-messenger/pools/default/claimed/ --advertise bridge');
  });
});
