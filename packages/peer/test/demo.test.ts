import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

/** The built demo; the test command builds first, so dist is current. */
const DEMO = fileURLToPath(new URL('../dist/demo/two-peers.js', import.meta.url));
const WAIT_MS = 20_000;
const READY = /\/quit \(or Ctrl\+C\) stops both peers\n/;

/** One run of the demo with piped stdin, its output collected to wait on. */
class DemoRun {
  readonly child: ChildProcessWithoutNullStreams;
  /** Exit code, once the process ended and its output is read. */
  readonly exited: Promise<number | null>;
  stdout = '';
  stderr = '';
  closed = false;

  constructor(cwd: string, args: string[] = []) {
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('P2PM_')));
    this.child = spawn(process.execPath, [DEMO, ...args], { cwd, env, stdio: 'pipe' });
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = once(this.child, 'close').then(([code]) => {
      this.closed = true;
      return code as number | null;
    });
  }

  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** The first match of `pattern` in stdout after `since`; fails on timeout or exit. */
  waitFor(pattern: RegExp, since = 0): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = this.stdout.slice(since).match(pattern);
        if (match) finish(() => resolve(match));
        return match !== null;
      };
      const fail = (why: string) => () =>
        finish(() =>
          reject(
            new Error(`${why} waiting for ${pattern}\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`),
          ),
        );
      const onClose = () => check() || fail('the demo exited')();
      const timer = setTimeout(fail(`timed out after ${WAIT_MS} ms`), WAIT_MS);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.child.stdout.off('data', check);
        this.child.off('close', onClose);
        settle();
      };
      this.child.stdout.on('data', check);
      this.child.on('close', onClose);
      if (!check() && this.closed) onClose();
    });
  }

  /** Starts, and resolves with the ids and the bot's pid the demo printed. */
  async ready(): Promise<{ aliceId: string; bobId: string; botPid: number }> {
    await this.waitFor(READY);
    const botPid = Number((await this.waitFor(/bob, the bot, in a child process… pid (\d+)/))[1]);
    const bobId = (await this.waitFor(/peer bob \(the bot, pid \d+\)\n {2}id +(\S+)/))[1];
    const aliceId = (await this.waitFor(/peer alice\n {2}id +(\S+)/))[1];
    if (!bobId || !aliceId || !(botPid > 0)) throw new Error(`ids or pid missing in\n${this.stdout}`);
    return { aliceId, bobId, botPid };
  }

  async quit(): Promise<number | null> {
    this.type('/quit');
    return this.exited;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

describe('the two-peer demo', () => {
  const runs: DemoRun[] = [];
  const dirs: string[] = [];

  async function start(args: string[] = [], cwd?: string): Promise<DemoRun> {
    let dir = cwd;
    if (!dir) {
      dir = await mkdtemp(join(tmpdir(), 'p2pm-demo-'));
      dirs.push(dir);
    }
    const run = new DemoRun(dir, args);
    runs.push(run);
    return run;
  }

  afterEach(async () => {
    for (const run of runs.splice(0)) {
      run.kill();
      await run.exited;
    }
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('chats with the bot, shows delivered and read, and stops both peers on /quit', async () => {
    const demo = await start();
    const { botPid } = await demo.ready();
    expect(isRunning(botPid)).toBe(true);

    const since = demo.stdout.length;
    demo.type('hello demo world');
    await demo.waitFor(/✓✓ delivered to bob: "hello demo world"/, since);
    await demo.waitFor(/✓✓ read by bob: "hello demo world"/, since);
    await demo.waitFor(/\[bob\] .*got your 3 words, 16 characters; backwards: "dlrow omed olleh"/, since);

    expect(await demo.quit()).toBe(0);
    expect(demo.stdout).toMatch(/stopped alice and bob/);
    expect(isRunning(botPid)).toBe(false);
    // Logs go to the file, not the terminal.
    expect(demo.stderr).toBe('');
    expect(demo.stdout).not.toMatch(/"level":/);
    const dir = dirs[0] ?? '';
    expect((await readdir(join(dir, '.demo'))).sort()).toEqual(['alice', 'bob', 'demo.log']);
    const log = await readFile(join(dir, '.demo', 'demo.log'), 'utf8');
    expect(log).toMatch(/"name":"bob".*"msg":"answered"/);
    expect(log).toMatch(/"name":"alice".*"msg":"peer stopped"/);
  });

  it('keeps identities and history across restarts, and --reset starts afresh', async () => {
    const first = await start();
    const before = await first.ready();
    first.type('remember me');
    await first.waitFor(/✓✓ read by bob: "remember me"/);
    // The reply comes after the read receipt: wait for it, or it would still be in bob's outbox.
    await first.waitFor(/\[bob\] .*got your 2 words, 11 characters/);
    expect(await first.quit()).toBe(0);
    const dir = dirs[0] ?? '';

    const second = await start([], dir);
    const again = await second.ready();
    expect(again.aliceId).toBe(before.aliceId);
    expect(again.bobId).toBe(before.bobId);
    expect(second.stdout).toMatch(/\/history shows your earlier messages/);
    const since = second.stdout.length;
    second.type('/history');
    await second.waitFor(/you: remember me {2}\[✓✓ read\]/, since);
    await second.waitFor(/bob: got your 2 words, 11 characters; backwards: "em rebmemer"/, since);
    expect(await second.quit()).toBe(0);

    const third = await start(['--reset'], dir);
    const fresh = await third.ready();
    expect(fresh.aliceId).not.toBe(before.aliceId);
    expect(fresh.bobId).not.toBe(before.bobId);
    third.type('/history');
    await third.waitFor(/no messages with bob yet/);
    expect(await third.quit()).toBe(0);
    expect(isRunning(fresh.botPid)).toBe(false);
  });

  it('explains a wrong flag', async () => {
    const demo = await start(['--frobnicate']);
    expect(await demo.exited).toBe(2);
    expect(demo.stderr).toMatch(/--frobnicate/);
    expect(demo.stderr).toMatch(/--reset/);
  });
});
