import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess } from '../../peer/test/helpers/cli-process.js';
import { OPTIONS } from '../src/cli/options.js';
import { BRIDGE_MAIN, cleanEnv } from './cli-process.js';

const ID = 'mfrggzdfmztwq2lknnwg23tpobyxe43u';

describe('the bridge command', () => {
  const processes: CliProcess[] = [];
  const dirs: string[] = [];
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.kill()));
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  function bridge(args: string[], env: Record<string, string> = {}): CliProcess {
    const started = new CliProcess('bridge', args, cleanEnv(env), { script: BRIDGE_MAIN });
    processes.push(started);
    return started;
  }

  async function run(args: string[], env: Record<string, string> = {}) {
    const started = bridge(args, env);
    const exit = await started.exited;
    return { code: exit.code, stdout: started.output('stdout'), stderr: started.output('stderr') };
  }

  async function dir(): Promise<string> {
    const made = await mkdtemp(join(tmpdir(), 'p2pm-bridge-cli-'));
    dirs.push(made);
    return made;
  }

  it('prints its help from the option table, and its version', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    for (const spec of Object.values(OPTIONS)) {
      expect(help.stdout).toContain(`--${spec.flag}`);
      if ('env' in spec) expect(help.stdout).toContain(spec.env);
    }
    expect(help.stdout).toContain('ID@HOST:PORT');
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const shown = await run(['--version']);
    expect(shown).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it.each([
    [['--lan', '--relay-port', 'seventy'], /--relay-port must be a port number 0-65535, got "seventy"/],
    [['--lan', '--multicast-family', 'ipv5'], /--multicast-family must be one of ipv4, ipv6, both/],
    [['--lan', '--bogus'], /unknown flag --bogus/],
    [['--lan', '--join'], /--join needs a value, e.g. --join \w{32}@bridge.example.com:7443/],
    [
      ['--lan', '--join', '10.0.0.2:7443'],
      /names no bridge id, so the bridge there could not be checked: the expected form is ID@HOST:PORT, e\.g\. \w{32}@/,
    ],
    [
      ['--lan', '--join', 'someone@10.0.0.2:7443'],
      /does not start with a bridge id .* the expected form is ID@HOST:PORT/,
    ],
    [['--lan', '--join', `${ID}@10.0.0.2`], /has no HOST:PORT after the id: the expected form is ID@HOST:PORT/],
    [['--lan', '--join', `${ID}@a:1`, '--join', `${ID}@b:2`], /names bridge \w{32} twice/],
    [['--lan', '--listen', '0.0.0.0:7443', '--trust', 'not-an-id'], /--trust must be a bridge id .* got "not-an-id"/],
    [['--lan', '--listen', '0.0.0.0:7443'], /no bridge may link to it: add --trust ID/],
    [['--lan', '--trust', ID], /this bridge does not listen: add --listen HOST:PORT/],
    [['--lan', '--listen', 'everywhere', '--trust', ID], /--listen must be HOST:PORT, e\.g\. 0\.0\.0\.0:7443/],
    [
      ['--lan', '--relay-port', '7500', '--relay-greeting-port', '7500'],
      /--relay-greeting-port and --relay-port are both 7500/,
    ],
    [[], /no local side is configured: pass --lan/],
    [['--interface', 'eth0'], /--interface goes with --lan/],
  ])('refuses %j with its message and exit code 2', async (args, message) => {
    const { code, stderr, stdout } = await run(args);
    expect(stderr).toMatch(message);
    expect(stderr).toContain('Run "bridge --help" for usage.');
    expect(stdout).toBe('');
    expect(code).toBe(2);
  });

  it('reads its variables, and says which one is wrong', async () => {
    const { code, stderr } = await run([], { P2PM_BRIDGE_LAN: 'true', P2PM_BRIDGE_JOIN: `${ID}@10.0.0.2:7443,oops` });
    expect(stderr).toMatch(/P2PM_BRIDGE_JOIN "oops" names no bridge id/);
    expect(code).toBe(2);
    const lan = await run([], { P2PM_BRIDGE_LAN: 'maybe' });
    expect(lan.stderr).toMatch(/P2PM_BRIDGE_LAN must be true or false, got "maybe"/);
    expect(lan.code).toBe(2);
  });

  describe('config files', () => {
    async function withFile(content: string) {
      const path = join(await dir(), 'bridge.json');
      await writeFile(path, content);
      return path;
    }

    it('refuses a missing file', async () => {
      const path = join(await dir(), 'missing.json');
      const { code, stderr } = await run(['--config', path]);
      expect(stderr).toContain(`cannot read the config file ${path} (ENOENT)`);
      expect(code).toBe(2);
    });

    it('refuses a file that is not JSON', async () => {
      const path = await withFile('lan = true\n');
      const { code, stderr } = await run(['--config', path]);
      expect(stderr).toContain(`the config file ${path} is not valid JSON`);
      expect(code).toBe(2);
    });

    it('refuses an unknown key, naming it and the file', async () => {
      const path = await withFile(JSON.stringify({ lan: true, listenPort: 7443 }));
      const { code, stderr } = await run(['--config', path]);
      expect(stderr).toContain(`unknown key "listenPort" in the config file ${path}`);
      expect(stderr).toContain('relayGreetingPort');
      expect(code).toBe(2);
    });

    it.each([
      [{ lan: 'yes' }, 'lan', 'true or false'],
      [{ lan: true, relayPort: '7421' }, 'relayPort', 'a whole number'],
      [{ lan: true, join: `${ID}@10.0.0.2:7443` }, 'join', 'a list of strings'],
      [{ lan: true, name: 7 }, 'name', 'a string'],
    ])('refuses %j: the key of the wrong type and the file', async (content, key, what) => {
      const path = await withFile(JSON.stringify(content));
      const { code, stderr } = await run(['--config', path]);
      expect(stderr).toContain(`the key "${key}" in the config file ${path} must be ${what}`);
      expect(code).toBe(2);
    });

    it('takes its values after flags and variables, and names its key when one is wrong', async () => {
      const path = await withFile(JSON.stringify({ lan: true, join: ['oops'], trust: [ID] }));
      const fromFile = await run(['--config', path]);
      expect(fromFile.stderr).toContain(`"join" in ${path} "oops" names no bridge id`);
      expect(fromFile.code).toBe(2);
      // A variable wins over the file: its own mistake is the one reported.
      const fromEnv = await run(['--config', path], { P2PM_BRIDGE_JOIN: 'wrong-too' });
      expect(fromEnv.stderr).toContain('P2PM_BRIDGE_JOIN "wrong-too" names no bridge id');
      // A flag wins over both: the join is fine, and the file's trust needs a listener.
      const fromFlag = await run(['--config', path, '--join', `${ID}@10.0.0.2:7443`], {
        P2PM_BRIDGE_JOIN: 'wrong-too',
      });
      expect(fromFlag.stderr).toContain(`"trust" in ${path} lets bridges link in, but this bridge does not listen`);
      expect(fromFlag.code).toBe(2);
    });
  });

  it('says which port is in use and suggests another (exit code 1)', async () => {
    const busy = createServer();
    servers.push(busy);
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const port = (busy.address() as { port: number }).port;
    const data = await dir();
    const { code, stderr } = await run([
      '--lan',
      '--data-dir',
      data,
      '--relay-host',
      '127.0.0.1',
      '--relay-greeting-port',
      '0',
      '--relay-port',
      String(port),
    ]);
    expect(stderr).toContain(
      `the relay port ${port} on 127.0.0.1 is in use (--relay-port): pass another, e.g. --relay-port ${port + 10}`,
    );
    expect(code).toBe(1);
  });
});
