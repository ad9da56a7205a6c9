import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built command; the test command builds first, so dist is current. */
export const CLI_MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

const DEFAULT_WAIT_MS = 20_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

type Stream = 'stdout' | 'stderr';

/** A running process (the `peer` command by default) whose output is collected and can be waited on. */
export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<Exit>;
  readonly #output: Record<Stream, string> = { stdout: '', stderr: '' };
  /** Set when the process ended and its output streams are drained. */
  #closed = false;

  constructor(
    readonly label: string,
    args: readonly string[],
    env: Readonly<Record<string, string>>,
    where: { script?: string; cwd?: string; netns?: string } = {},
  ) {
    const command = [process.execPath, where.script ?? CLI_MAIN, ...args];
    const inNamespace = where.netns ? ['ip', 'netns', 'exec', where.netns, ...command] : command;
    this.child = spawn(inNamespace[0] as string, inNamespace.slice(1), {
      env: { ...env },
      cwd: where.cwd,
      stdio: 'pipe',
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      this.child[stream].setEncoding('utf8');
      this.child[stream].on('data', (chunk: string) => {
        this.#output[stream] += chunk;
      });
    }
    this.child.once('close', () => {
      this.#closed = true;
    });
    // 'close' rather than 'exit': by then all the output has been read.
    this.exited = once(this.child, 'close').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
    }));
  }

  output(stream: Stream = 'stdout'): string {
    return this.#output[stream];
  }

  /** Where the output ends now: wait `since` a mark to ignore what came before. */
  mark(stream: Stream = 'stdout'): number {
    return this.#output[stream].length;
  }

  /** Types one line into the process's stdin. */
  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /**
   * Resolves with the first match of `pattern` in the output after `since`; fails with the
   * output so far when the time runs out or the process ends first.
   */
  waitFor(
    pattern: RegExp,
    {
      stream = 'stdout',
      since = 0,
      timeoutMs = DEFAULT_WAIT_MS,
    }: { stream?: Stream; since?: number; timeoutMs?: number } = {},
  ): Promise<RegExpMatchArray> {
    const source = this.child[stream];
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const match = this.#output[stream].slice(since).match(pattern);
        if (match) finish(() => resolve(match));
        return match !== null;
      };
      const fail = (why: string) => () =>
        finish(() =>
          reject(
            new Error(
              `${this.label}: ${why} waiting for ${pattern} on ${stream}\n` +
                `--- stdout ---\n${this.#output.stdout}\n--- stderr ---\n${this.#output.stderr}`,
            ),
          ),
        );
      const onData = () => check();
      const onClose = () => check() || fail('exited')();
      const timer = setTimeout(fail(`timed out after ${timeoutMs} ms`), timeoutMs);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        source.off('data', onData);
        this.child.off('close', onClose);
        settle();
      };
      source.on('data', onData);
      this.child.on('close', onClose);
      if (!check() && this.#closed) onClose();
    });
  }

  /** Kills the process if it still runs, and waits for it to be gone. */
  async kill(): Promise<void> {
    if (!this.#closed) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Everything a test started: processes and temp dirs, all removed by `cleanup()`. */
export class Started {
  readonly #processes: CliProcess[] = [];
  readonly #dirs: string[] = [];

  /**
   * Starts `peer` with a clean environment (no P2PM_* from the outside) plus `env`; without
   * multicast, which must not leave this machine (see cliInNamespace).
   */
  cli(label: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): CliProcess {
    return this.script(label, CLI_MAIN, ['--no-multicast', ...args], { env });
  }

  /** Starts `peer` in a network namespace, with its default discovery (multicast on). */
  cliInNamespace(netns: string, label: string, args: readonly string[]): CliProcess {
    const started = new CliProcess(label, args, cleanEnv(), { netns });
    this.#processes.push(started);
    return started;
  }

  /** Starts another built script the same way, optionally in `cwd`. */
  script(
    label: string,
    script: string,
    args: readonly string[],
    { env = {}, cwd }: { env?: Readonly<Record<string, string>>; cwd?: string } = {},
  ): CliProcess {
    const started = new CliProcess(label, args, { ...cleanEnv(), ...env }, { script, cwd });
    this.#processes.push(started);
    return started;
  }

  async tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'p2pm-cli-'));
    this.#dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.#processes.splice(0).map((p) => p.kill()));
    await Promise.all(this.#dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

function cleanEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && !entry[0].startsWith('P2PM_'),
    ),
  );
}
