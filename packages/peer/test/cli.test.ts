import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Env, parseCommandLine, type SystemInfo } from '../src/cli/config.js';
import { OPTIONS, SECRETS } from '../src/cli/options.js';
import { CLI_MAIN, type CliProcess, Started } from './helpers/cli-process.js';

const system: SystemInfo = { homedir: '/home/ursula', username: 'ursula' };

function configOf(argv: string[], env: Env = {}, sys: SystemInfo = system) {
  const command = parseCommandLine(argv, env, sys);
  if (command.kind !== 'run') throw new Error(`expected a run command, got ${command.kind}`);
  return command.config;
}

function configError(argv: string[], env: Env = {}, sys: SystemInfo = system): Error {
  try {
    parseCommandLine(argv, env, sys);
  } catch (err) {
    if (err instanceof Error) return err;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify({ argv, env })}`);
}

describe('parseCommandLine', () => {
  it('fills in every default from the one table', () => {
    expect(configOf([])).toEqual({
      name: 'ursula',
      dataDir: '/home/ursula/.p2p-messenger/ursula',
      greetingPort: 7400,
      securePort: 7401,
      listen: '0.0.0.0',
      peers: [],
      advertise: [],
      logLevel: 'info',
      logFile: '/home/ursula/.p2p-messenger/ursula/peer.log',
      sync: 'normal',
      maxMessageBytes: 1024 * 1024,
      interactive: true,
      exitWithParent: false,
      discovery: { multicast: { families: ['ipv4', 'ipv6'] } },
      web: null,
    });
    expect(Object.isFrozen(configOf([]))).toBe(true);
  });

  it('reads the discovery flags and their environment variables', () => {
    expect(
      configOf([
        '--multicast-interface',
        'eth0',
        '--multicast-interface',
        'wlan0',
        '--multicast-family',
        'ipv6',
        '--multicast-port',
        '5000',
        '--multicast-group-v6',
        'ff02::1234',
        '--announce-interval',
        '500',
      ]).discovery,
    ).toEqual({
      multicast: {
        families: ['ipv6'],
        interfaces: ['eth0', 'wlan0'],
        port: 5000,
        ipv6Group: 'ff02::1234',
        intervalMs: 500,
      },
    });
    const env = {
      CONSUL_HTTP_ADDR: '10.0.0.5:8500',
      P2PM_CONSUL_TAGS: 'lan-a,blue',
      P2PM_MULTICAST_GROUP_V4: '239.1.2.3',
    };
    expect(configOf(['--advertise', '10.0.0.7'], env).discovery).toEqual({
      multicast: { families: ['ipv4', 'ipv6'], ipv4Group: '239.1.2.3' },
      consul: { agent: '10.0.0.5:8500', advertiseAddress: '10.0.0.7', tags: ['lan-a', 'blue'] },
    });
    expect(configOf(['--no-multicast']).discovery).toEqual({});
  });

  it('lists only the peers with a key under --consul-visible-keys, which goes with --consul', () => {
    const env = { CONSUL_HTTP_ADDR: 'consul:8500', P2PM_CONSUL_VISIBLE_KEYS: 'p2p-messenger/pools/eu-1/claimed/' };
    expect(configOf(['--no-multicast', '--advertise', 'p2pm-peer-x'], env).discovery).toEqual({
      consul: {
        agent: 'consul:8500',
        advertiseAddress: 'p2pm-peer-x',
        tags: [],
        visibleKeys: 'p2p-messenger/pools/eu-1/claimed/',
      },
    });
    expect(configError(['--consul-visible-keys', 'a/']).message).toBe(
      '--consul-visible-keys goes with --consul (or CONSUL_HTTP_ADDR)',
    );
    expect(
      configError(['--consul', 'consul:8500', '--advertise', 'x', '--consul-visible-keys', '/claimed/']).message,
    ).toMatch(/^--consul-visible-keys must be a Consul KV prefix \(printable, no spaces, not starting with "\/"\)/);
  });

  it('reads the catalog from --catalog or P2PM_CATALOG_URL, and its token from the environment only', () => {
    expect(configOf(['--no-multicast', '--catalog', 'http://10.0.0.2:7600']).discovery).toEqual({
      catalog: { url: 'http://10.0.0.2:7600' },
    });
    const env = { P2PM_CATALOG_URL: 'https://dispatcher.example/catalog/', P2PM_CATALOG_TOKEN: 'tok-3f9a' };
    expect(configOf(['--no-multicast'], env).discovery).toEqual({
      catalog: { url: 'https://dispatcher.example/catalog/', token: 'tok-3f9a' },
    });
    expect(configOf(['--no-multicast', '--catalog', 'http://[::1]:7600'], env).discovery).toEqual({
      catalog: { url: 'http://[::1]:7600', token: 'tok-3f9a' },
    });
    expect(configError(['--catalog-token', 'tok-3f9a']).message).toBe('unknown flag --catalog-token');
  });

  it('reads the catalog token from the file P2PM_CATALOG_TOKEN_FILE names (a Docker secret), and says which one it cannot read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'token-'));
    try {
      const file = join(dir, 'catalog-token');
      await writeFile(file, 'tok-from-file\n', { mode: 0o600 });
      const env = { P2PM_CATALOG_URL: 'http://10.0.0.2:7600', P2PM_CATALOG_TOKEN_FILE: file };
      expect(configOf(['--no-multicast'], env).discovery).toEqual({
        catalog: { url: 'http://10.0.0.2:7600', token: 'tok-from-file' },
      });
      // The variable itself wins over the file.
      expect(configOf(['--no-multicast'], { ...env, P2PM_CATALOG_TOKEN: 'tok-env' }).discovery).toMatchObject({
        catalog: { token: 'tok-env' },
      });
      const missing = configError([], { ...env, P2PM_CATALOG_TOKEN_FILE: join(dir, 'nothing') });
      expect(missing.message).toBe(
        `P2PM_CATALOG_TOKEN_FILE names ${join(dir, 'nothing')}, which cannot be read (ENOENT)`,
      );
      expect(missing.name).toBe('ConfigError');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('explains a bad catalog URL or token without showing secrets', () => {
    expect(configError(['--catalog', '10.0.0.2:7600']).message).toBe(
      '--catalog must be the catalog\'s http(s) URL (e.g. http://10.0.0.2:7600), got "10.0.0.2:7600"',
    );
    expect(configError([], { P2PM_CATALOG_URL: 'ftp://10.0.0.2' }).message).toMatch(
      /^P2PM_CATALOG_URL must be the catalog's http\(s\) URL/,
    );
    const withPassword = configError(['--catalog', 'http://peer:hunter2@10.0.0.2:7600']);
    expect(withPassword.message).toBe(
      '--catalog must not carry credentials (they would show in ps): set P2PM_CATALOG_TOKEN instead',
    );
    const badToken = configError(['--catalog', 'http://10.0.0.2:7600'], { P2PM_CATALOG_TOKEN: 'two words' });
    expect(badToken.message).toBe('P2PM_CATALOG_TOKEN must be printable ASCII without spaces (the value is not shown)');
    expect(configError([], { P2PM_CATALOG_TOKEN: 'tok-3f9a' }).message).toBe(
      'P2PM_CATALOG_TOKEN is set but no catalog is: pass --catalog URL (or set P2PM_CATALOG_URL)',
    );
    for (const err of [withPassword, badToken]) expect(err.name).toBe('ConfigError');
  });

  it('reads the web server flags and explains bad ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-web-'));
    try {
      const pub = join(dir, 'dispatcher.pub');
      const pem = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
      await writeFile(pub, pem);
      expect(configOf(['--web-port', '7480', '--dispatcher-key', pub]).web).toEqual({
        port: 7480,
        dispatcherKeyPem: pem,
      });
      expect(configOf(['--web-port', '0']).web).toEqual({ port: 0 });
      expect(configError(['--dispatcher-key', pub]).message).toMatch(/--dispatcher-key needs --web-port/);
      expect(configError(['--web-port', '0', '--dispatcher-key', join(dir, 'none')]).message).toMatch(/cannot read/);
      const rsa = join(dir, 'rsa.pub');
      await writeFile(
        rsa,
        generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }),
      );
      expect(configError(['--web-port', '0', '--dispatcher-key', rsa]).message).toMatch(/not an Ed25519 public key/);
      expect(configOf(['--web-port', '0', '--dispatcher-url', 'https://chat.example.com/']).web).toEqual({
        port: 0,
        dispatcherUrl: 'https://chat.example.com/',
      });
      expect(configError(['--dispatcher-url', 'https://chat.example.com/']).message).toMatch(
        /--dispatcher-url needs --web-port/,
      );
      for (const bad of ['/relative', 'javascript:alert(1)', 'ftp://x/', 'https://user:pw@chat.example.com/']) {
        expect(configError(['--web-port', '0', '--dispatcher-url', bad]).message).toMatch(/--dispatcher-url must/);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('explains bad discovery settings', () => {
    expect(configError(['--consul', 'nowhere']).message).toBe(
      '--consul must be the Consul agent\'s host:port or URL (e.g. 127.0.0.1:8500), got "nowhere"',
    );
    expect(configError(['--consul', '127.0.0.1:8500']).message).toMatch(/--consul needs --advertise HOST/);
    expect(configError(['--multicast-group-v4', '10.0.0.1']).message).toMatch(/IPv4 multicast address/);
    expect(configError(['--multicast-group-v6', '239.1.1.1']).message).toMatch(/IPv6 multicast address/);
    expect(configError(['--announce-interval', '5']).message).toMatch(/from 100 to 600000/);
    expect(configError(['--peer-expiry', '1000']).message).toMatch(
      /must be longer than the announce interval \(2000 ms\)/,
    );
    expect(configError(['--multicast-family', 'ipx']).message).toMatch(/ipv4, ipv6, both/);
    expect(configError(['--multicast-interface', 'bad name!']).message).toMatch(/network interface name/);
  });

  it('reads the environment, and flags win over it', () => {
    const env = {
      P2PM_NAME: 'alice',
      P2PM_GREETING_PORT: '7500',
      P2PM_SECURE_PORT: '7501',
      P2PM_LISTEN: '127.0.0.1',
      P2PM_PEERS: '10.0.0.1:7400, 10.0.0.2:7400',
      P2PM_LOG_LEVEL: 'debug',
      P2PM_SYNC: 'full',
      P2PM_MAX_MESSAGE_BYTES: '2048',
      P2PM_DATA_DIR: '/srv/alice',
    };
    expect(configOf([], env)).toMatchObject({
      name: 'alice',
      dataDir: '/srv/alice',
      greetingPort: 7500,
      securePort: 7501,
      listen: '127.0.0.1',
      peers: ['10.0.0.1:7400', '10.0.0.2:7400'],
      logLevel: 'debug',
      logFile: '/srv/alice/peer.log',
      sync: 'full',
      maxMessageBytes: 2048,
    });
    const argv = ['--name', 'bob', '--greeting-port=0', '--peer', '[::1]:7410', '--peer', 'b:1', '--log-file', '-'];
    expect(configOf([...argv, '--sync', 'normal', '--no-interactive', '--exit-with-parent'], env)).toMatchObject({
      name: 'bob',
      dataDir: '/srv/alice',
      greetingPort: 0,
      peers: ['[::1]:7410', 'b:1'],
      logFile: '-',
      sync: 'normal',
      interactive: false,
      exitWithParent: true,
    });
    expect(configOf(['--data-dir', '~/peers/x'], { P2PM_NAME: '' }).dataDir).toBe('/home/ursula/peers/x');
  });

  it('answers --help and --version before validating anything else', () => {
    expect(parseCommandLine(['--greeting-port', 'x', '-h'], {}, system)).toEqual({ kind: 'help' });
    expect(parseCommandLine(['--version'], { P2PM_SYNC: 'x' }, system)).toEqual({ kind: 'version' });
  });

  it.each([
    [['--greeting-port', 'abc'], {}, '--greeting-port must be a port number 0-65535, got "abc"'],
    [[], { P2PM_SECURE_PORT: '70000' }, 'P2PM_SECURE_PORT must be a port number 0-65535, got "70000"'],
    [['--greeting-port', '7400', '--secure-port', '7400'], {}, '--greeting-port and --secure-port must differ'],
    [['--name', ''], {}, '--name must be 1-64 characters'],
    [['--name', 'a/b'], {}, 'without "/"'],
    [['--name', 'x'.repeat(65)], {}, '--name must be 1-64 characters'],
    [['--listen', 'not a host'], {}, '--listen must be an IP address or host name'],
    [['--peer', '10.0.0.1'], {}, '--peer must be host:port, the greeting address of another peer'],
    [[], { P2PM_PEERS: 'a:1,b' }, 'P2PM_PEERS must be host:port'],
    [['--advertise', '10.0.0.1:7400'], {}, '--advertise must be an IP address or host name other peers can reach'],
    [['--log-level', 'loud'], {}, '--log-level must be one of fatal, error, warn, info, debug, trace, silent'],
    [['--sync', 'always'], {}, '--sync must be one of normal, full, got "always"'],
    [['--max-message-bytes', '0'], {}, '--max-message-bytes must be a whole number of bytes from 1 to'],
    [['--max-message-bytes', '1MB'], {}, 'got "1MB"'],
    [['--data-dir', ' '], {}, '--data-dir must be a path'],
    [['--gretting-port', '1'], {}, 'unknown flag --gretting-port'],
    [['--name'], {}, '--name needs a value, e.g. --name alice'],
    [['--name', '--sync', 'full'], {}, '--name needs a value'],
    [['--help=yes'], {}, '--help takes no value'],
    [['alice'], {}, 'unexpected argument "alice"'],
  ] as [string[], Env, string][])('rejects %j %j with a helpful ConfigError', (argv, env, message) => {
    const err = configError(argv, env);
    expect(err.name).toBe('ConfigError');
    expect(err.message).toContain(message);
  });

  it('needs --name when the OS user name is not known', () => {
    const err = configError([], {}, { homedir: '/', username: undefined });
    expect(err.name).toBe('ConfigError');
    expect(err.message).toContain('--name is required (or set P2PM_NAME)');
  });
});

describe('the peer command', () => {
  const started = new Started();
  afterEach(() => started.cleanup());

  /** A peer on 127.0.0.1 with free ports in its own temp dir. */
  async function startPeer(name: string, ...extra: string[]): Promise<CliProcess> {
    const dataDir = await started.tempDir();
    const args = ['--name', name, '--data-dir', dataDir, '--listen', '127.0.0.1'];
    return started.cli(name, [...args, '--greeting-port', '0', '--secure-port', '0', ...extra]);
  }

  it('--help exits 0 and lists every flag with its environment variable', async () => {
    const help = started.cli('help', ['--help']);
    expect(await help.exited).toEqual({ code: 0, signal: null });
    for (const spec of Object.values(OPTIONS)) {
      expect(help.output()).toContain(`--${spec.flag}`);
      if ('env' in spec) expect(help.output()).toContain(spec.env);
    }
    for (const secret of Object.values(SECRETS)) expect(help.output()).toContain(secret.env);
    expect(help.output()).toContain('--peer 127.0.0.1:7400');
  });

  it('a bad flag exits 2 and says what to do on stderr', async () => {
    const bad = started.cli('bad', ['--greeting-port', 'abc']);
    expect(await bad.exited).toEqual({ code: 2, signal: null });
    expect(bad.output('stderr')).toBe(
      'peer: --greeting-port must be a port number 0-65535, got "abc"\nRun "peer --help" for usage.\n',
    );
  });

  it('runs as a daemon until SIGTERM, and a second peer on its port exits 1', async () => {
    const daemon = await startPeer('dora', '--no-interactive');
    const [line = ''] = await daemon.waitFor(/^\{.*\}$/m);
    const ready = JSON.parse(line) as { id: string; greetingPort: number; securePort: number };
    expect(ready).toMatchObject({
      id: expect.stringMatching(/^[a-z2-7]{32}$/),
      greetingPort: expect.any(Number),
    });
    const clash = await startPeer('clash', '--greeting-port', String(ready.greetingPort), '--no-interactive');
    expect(await clash.exited).toEqual({ code: 1, signal: null });
    expect(clash.output('stderr')).toMatch(/^peer: the greeting port \d+ on 127\.0\.0\.1 is in use/);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
  });

  it('with --exit-with-parent, a daemon whose parent is killed stops by itself', async () => {
    const dataDir = await started.tempDir();
    const peerArgs = ['--name', 'orphan', '--data-dir', dataDir, '--listen', '127.0.0.1', '--greeting-port', '0'];
    const command = [process.execPath, CLI_MAIN, ...peerArgs, '--secure-port', '0', '--no-interactive'];
    const quoted = [...command, '--exit-with-parent'].map((a) => `'${a}'`).join(' ');
    // A parent shell that prints its child's pid, then waits for it (whose ready line follows).
    const parent = spawn('bash', ['-c', `echo "$$"; ${quoted} & echo "pid $!"; wait`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    parent.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    await expect.poll(() => /^\{.*\}$/m.test(out), { timeout: 20_000 }).toBe(true);
    const pid = Number(/^pid (\d+)$/m.exec(out)?.[1]);
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    try {
      expect(alive()).toBe(true);
      parent.kill('SIGKILL');
      await expect.poll(alive, { timeout: 10_000 }).toBe(false);
    } finally {
      if (alive()) process.kill(pid, 'SIGKILL');
    }
  });

  it('prints a one-time web login link that lets the owner in once', async () => {
    const daemon = await startPeer('wendy', '--no-interactive', '--web-port', '0');
    const [line = ''] = await daemon.waitFor(/^\{.*\}$/m);
    const ready = JSON.parse(line) as { webPort: number; loginPath: string };
    const url = `http://127.0.0.1:${ready.webPort}${ready.loginPath}`;
    const login = await fetch(url, { redirect: 'manual' });
    expect(login.status).toBe(303);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const self = await fetch(`http://127.0.0.1:${ready.webPort}/api/self`, { headers: { cookie } });
    expect(await self.json()).toMatchObject({ name: 'wendy' });
    expect((await fetch(url, { redirect: 'manual' })).status).toBe(403);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
  });

  it('exits 1 with advice when the identity file is damaged', async () => {
    const dataDir = await started.tempDir();
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, 'identity.key.json'), 'not json', { mode: 0o600 });
    const damaged = started.cli('damaged', [
      '--name',
      'dan',
      '--data-dir',
      dataDir,
      '--greeting-port',
      '0',
      '--secure-port',
      '0',
    ]);
    expect(await damaged.exited).toEqual({ code: 1, signal: null });
    expect(damaged.output('stderr')).toMatch(/^peer: .*identity\.key\.json is damaged/);
    expect(damaged.output('stderr')).toContain('use another --data-dir');
  });

  it('explains an unknown multicast interface and exits 2', async () => {
    const dataDir = await started.tempDir();
    const peer = started.script('nic', CLI_MAIN, [
      '--name',
      'nic',
      '--data-dir',
      dataDir,
      '--greeting-port',
      '0',
      '--secure-port',
      '0',
      '--multicast-interface',
      'nosuch0',
      '--no-interactive',
    ]);
    expect(await peer.exited).toMatchObject({ code: 2 });
    expect(peer.output('stderr')).toMatch(/^peer: no network interface named nosuch0 \(this machine has: /);
  });

  it('lets two interactive peers chat: peers, delivery and read states, errors, quit', async () => {
    const alice = await startPeer('alice');
    const [, alicePort] = await alice.waitFor(/greeting port (\d+)/);
    const bob = await startPeer('bob', '--peer', `127.0.0.1:${alicePort}`, '--max-message-bytes', '64');
    await bob.waitFor(/greeting port \d+/);
    await bob.waitFor(/^\* alice \([a-z2-7]{8}\) is online$/m);
    await alice.waitFor(/^\* bob \([a-z2-7]{8}\) is online$/m);

    let since = bob.mark();
    bob.type('/peers');
    await bob.waitFor(/^ +1 {2}alice {2}[a-z2-7]{8} {2}online {2}via static$/m, { since });

    alice.type('/to bob');
    await alice.waitFor(/^talking to bob/m);
    since = bob.mark();
    bob.type('/to nobody');
    await bob.waitFor(/^no peer matches "nobody"/m, { since });
    bob.type('/to 1');
    await bob.waitFor(/^talking to alice/m, { since });
    bob.type('x'.repeat(65));
    await bob.waitFor(/^error: message is 65 bytes; the limit is 64$/m, { since });

    bob.type('hello alice');
    await alice.waitFor(/^\[bob\] hello alice$/m);
    await bob.waitFor(/✓✓ delivered to alice: "hello alice"/, { since });
    // Alice is talking to bob, so she read it as it was shown.
    await bob.waitFor(/✓✓ read by alice: "hello alice"/, { since });
    bob.type('/history');
    await bob.waitFor(/you: hello alice {2}\[✓✓ read\]/, { since });

    bob.type('/quit');
    expect(await bob.exited).toEqual({ code: 0, signal: null });
    await alice.waitFor(/^\* bob \([a-z2-7]{8}\) is offline$/m);
    alice.child.stdin.end(); // EOF quits too
    expect(await alice.exited).toEqual({ code: 0, signal: null });
  });
});
