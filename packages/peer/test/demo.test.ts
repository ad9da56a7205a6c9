import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive } from '../src/util/process.js';
import { type CliProcess, Started } from './helpers/cli-process.js';

/** The built demo; the test command builds first, so dist is current. */
const DEMO = fileURLToPath(new URL('../dist/demo/two-peers.js', import.meta.url));
const READY = /\/quit \(or Ctrl\+C\) stops both peers\n/;

/** One run of the demo with piped stdin: the shared process helper, plus what the demo prints. */
class DemoRun {
  constructor(readonly process: CliProcess) {}

  get stdout(): string {
    return this.process.output('stdout');
  }

  get stderr(): string {
    return this.process.output('stderr');
  }

  /** The exit code, once the process ended and its output is read. */
  get exited(): Promise<number | null> {
    return this.process.exited.then((exit) => exit.code);
  }

  type(line: string): void {
    this.process.type(line);
  }

  waitFor(pattern: RegExp, since = 0): Promise<RegExpMatchArray> {
    return this.process.waitFor(pattern, { since });
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
}

describe('the two-peer demo', () => {
  const started = new Started();
  const dirs: string[] = [];

  async function start(args: string[] = [], cwd?: string): Promise<DemoRun> {
    let dir = cwd;
    if (!dir) {
      dir = await started.tempDir();
      dirs.push(dir);
    }
    return new DemoRun(started.script('demo', DEMO, args, { cwd: dir }));
  }

  afterEach(async () => {
    dirs.length = 0;
    await started.cleanup();
  });

  it('chats with the bot, shows delivered and read, and stops both peers on /quit', async () => {
    const demo = await start();
    const { botPid } = await demo.ready();
    expect(isAlive(botPid)).toBe(true);

    const since = demo.stdout.length;
    demo.type('hello demo world');
    await demo.waitFor(/✓✓ delivered to bob: "hello demo world"/, since);
    await demo.waitFor(/✓✓ read by bob: "hello demo world"/, since);
    await demo.waitFor(/\[bob\] .*got your 3 words, 16 characters; backwards: "dlrow omed olleh"/, since);

    expect(await demo.quit()).toBe(0);
    expect(demo.stdout).toMatch(/stopped alice and bob/);
    expect(isAlive(botPid)).toBe(false);
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
    expect(isAlive(fresh.botPid)).toBe(false);
  });

  it('explains a wrong flag', async () => {
    const demo = await start(['--frobnicate']);
    expect(await demo.exited).toBe(2);
    expect(demo.stderr).toMatch(/--frobnicate/);
    expect(demo.stderr).toMatch(/--reset/);
  });
});
