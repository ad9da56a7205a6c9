import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { childrenOf, isAlive, processesMentioning } from './helpers/proc.js';
import { TestDispatchers } from './helpers/test-dispatcher.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

describe('the dispatcher command', () => {
  const dirs = new TestDispatchers();
  const children: ChildProcessWithoutNullStreams[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    await dirs.cleanup();
  });

  function run(args: string[]): {
    child: ChildProcessWithoutNullStreams;
    output: () => string;
    exited: Promise<number | null>;
  } {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: 'pipe' });
    children.push(child);
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    const exited = once(child, 'close').then(([code]) => code as number | null);
    return { child, output: () => output, exited };
  }

  it('--help lists every flag; a bad flag exits 2 and says what to do', async () => {
    const help = run(['--help']);
    expect(await help.exited).toBe(0);
    for (const flag of ['--port', '--data-dir', '--pool', '--max-waiting', '--no-guests', '--admin-password-file']) {
      expect(help.output()).toContain(flag);
    }
    const bad = run(['--pool', 'lots']);
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toBe(
      'dispatcher: --pool must be a whole number 0-1000, got "lots"\nRun "dispatcher --help" for usage.\n',
    );
  });

  it('exits 1 with advice when its port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((blocker.address() as { port: number }).port);
      const clash = run([
        '--data-dir',
        await dirs.dataDir(),
        '--port',
        port,
        '--log-file',
        '-',
        '--log-level',
        'silent',
      ]);
      expect(await clash.exited).toBe(1);
      expect(clash.output()).toContain(`dispatcher: port ${port} on 127.0.0.1 is in use: pass --port with another one`);
    } finally {
      blocker.close();
    }
  });

  it('exits 1 and names the agent when --catalog consul cannot reach Consul', async () => {
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const port = (free.address() as { port: number }).port;
    await new Promise((resolve) => free.close(resolve));
    const down = run([
      '--data-dir',
      await dirs.dataDir(),
      '--port',
      '0',
      '--log-file',
      '-',
      '--log-level',
      'silent',
      '--catalog',
      'consul',
      '--consul',
      `127.0.0.1:${port}`,
    ]);
    expect(await down.exited).toBe(1);
    expect(down.output()).toContain(`dispatcher: Consul at http://127.0.0.1:${port} is unreachable`);
    expect(down.output()).toContain('is the agent up, and --consul right?');
  });

  it('says where to go, stops its peers on SIGTERM, and its peers do not outlive a kill -9', async () => {
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      const dataDir = await dirs.dataDir();
      const dispatcher = run(['--data-dir', dataDir, '--port', '0', '--pool', '2']);
      await expect
        .poll(() => dispatcher.output(), { timeout: 20_000 })
        .toMatch(/open http:\/\/127\.0\.0\.1:\d+\/ in a browser/);
      const url = /open (http:\/\/\S+)\/ in a browser/.exec(dispatcher.output())?.[1] as string;
      expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
      // Its peers (started by its spawner process, a child of its own) and that spawner.
      await expect.poll(() => processesMentioning(join(dataDir, 'peers')).length, { timeout: 20_000 }).toBe(2);
      const started = [...processesMentioning(join(dataDir, 'peers')), ...childrenOf(dispatcher.child.pid as number)];
      expect(started).toHaveLength(3);
      dispatcher.child.kill(signal);
      const code = await dispatcher.exited;
      if (signal === 'SIGTERM') expect(code).toBe(0);
      await expect.poll(() => started.filter(isAlive), { timeout: 10_000 }).toEqual([]);
    }
  });

  it('stopped while peers are still starting, it ends them too rather than waiting for them', async () => {
    const dataDir = await dirs.dataDir();
    const dispatcher = run(['--data-dir', dataDir, '--port', '0', '--pool', '6', '--max-starts', '6']);
    await expect.poll(() => dispatcher.output(), { timeout: 20_000 }).toContain('dispatcher ready');
    dispatcher.child.kill('SIGTERM');
    expect(await dispatcher.exited).toBe(0);
    expect(processesMentioning(dataDir)).toEqual([]);
  });
});
