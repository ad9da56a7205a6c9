import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built command: the test command builds first, so dist is current. */
export const DISPATCHER_MAIN = fileURLToPath(new URL('../../packages/dispatcher/dist/main.js', import.meta.url));
const READY_LINE = /dispatcher ready: open (https?:\/\/\S+?)\/? in a browser/;

export interface DispatcherInit {
  /** Vacant peers kept ready (`--pool`); 2 unless given. */
  pool?: number;
  /** More flags for the command line. */
  args?: readonly string[];
  /** A network namespace to run it in (`ip netns exec`), with the peers it starts; default this one. */
  netns?: string;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A dispatcher process of this test's own, with its data and log in a temp dir. */
export interface StartedDispatcher {
  /** Where it listens, without a trailing slash: `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly dataDir: string;
  /** What it printed on stdout so far (the ready output: its bridge's id and address, say). */
  stdout(): string;
  /** The last lines of its log (and of its stderr), to print when a test failed. */
  logTail(lines?: number): Promise<string>;
  /** SIGTERM, waits for the exit (it stops its peers first), removes the temp dir. Safe to call twice. */
  stop(): Promise<Exit>;
}

/** Starts `dispatcher --port 0` in a fresh temp dir; resolves once it printed its URL. */
export async function startDispatcher(init: DispatcherInit = {}): Promise<StartedDispatcher> {
  const dataDir = await mkdtemp(join(tmpdir(), 'p2pm-e2e-'));
  const logFile = join(dataDir, 'dispatcher.log');
  const args = ['--data-dir', dataDir, '--port', '0', '--pool', String(init.pool ?? 2), '--log-file', logFile];
  const command = [process.execPath, DISPATCHER_MAIN, ...args, ...(init.args ?? [])];
  const where = init.netns ? ['ip', 'netns', 'exec', init.netns, ...command] : command;
  const child = spawn(where[0] as string, where.slice(1), {
    env: withoutP2pmVariables(process.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output.stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output.stderr += chunk;
  });
  // A failure to spawn shows in the error this gives when the ready line never comes.
  child.once('error', (err) => {
    output.stderr += `spawn failed: ${err.message}\n`;
  });
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const logTail = async (lines = 40): Promise<string> => {
    const log = await readFile(logFile, 'utf8').catch(() => '(no log file)');
    const tail = log.trimEnd().split('\n').slice(-lines).join('\n');
    const peers = await peerLogTails(join(dataDir, 'peers'), lines);
    return `--- ${logFile} (last ${lines} lines) ---\n${tail}\n--- stderr ---\n${output.stderr}${peers}`;
  };
  let stopped: Promise<Exit> | undefined;
  const stop = (): Promise<Exit> => {
    // 30 s: it lets peers that are still starting finish before it stops them all.
    stopped ??= stopProcess(child, exited, init.stopTimeoutMs ?? 30_000)
      .catch(async (err: Error) => {
        throw new Error(`${err.message}\n${await logTail()}`);
      })
      .finally(() => rm(dataDir, { recursive: true, force: true }));
    return stopped;
  };

  try {
    const url = await readyUrl(child, output, exited, init.startTimeoutMs ?? 30_000);
    return { url, dataDir, stdout: () => output.stdout, logTail, stop };
  } catch (err) {
    const tail = await logTail();
    await stop().catch(() => {}); // The error that matters is the one above.
    throw new Error(`${(err as Error).message}\n--- stdout ---\n${output.stdout}\n${tail}`);
  }
}

function readyUrl(
  child: ChildProcess,
  output: { stdout: string },
  exited: Promise<Exit>,
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`dispatcher not ready after ${timeoutMs} ms`)), timeoutMs);
    const onData = () => {
      const match = READY_LINE.exec(output.stdout);
      if (match?.[1]) finish(match[1]);
    };
    const finish = (result: string | Error) => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      if (typeof result === 'string') resolve(result);
      else reject(result);
    };
    child.stdout?.on('data', onData);
    void exited.then((exit) => finish(new Error(`dispatcher exited before it was ready (${JSON.stringify(exit)})`)));
    onData();
  });
}

/** Each peer's warnings and errors (its own log in its data dir): why a peer did not do its part. */
async function peerLogTails(peersDir: string, lines: number): Promise<string> {
  const instances = await readdir(peersDir).catch(() => []);
  const tails = await Promise.all(
    instances.map(async (instance) => {
      const file = join(peersDir, instance, 'peer.log');
      const log = await readFile(file, 'utf8').catch(() => '');
      const notable = log
        .split('\n')
        .filter((line) => /"level":(4|5|6)0/.test(line))
        .slice(-lines);
      return notable.length > 0 ? `\n--- ${file} (warnings and errors) ---\n${notable.join('\n')}` : '';
    }),
  );
  return tails.join('');
}

/** SIGTERM and the exit; SIGKILL (and an error) if it does not stop in time. */
async function stopProcess(child: ChildProcess, exited: Promise<Exit>, timeoutMs: number): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs);
  });
  const result = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (result !== 'late') return result;
  child.kill('SIGKILL');
  await exited;
  throw new Error(`dispatcher did not stop within ${timeoutMs} ms of SIGTERM (killed)`);
}

/** The runner's environment minus P2PM_*: the dispatcher reads its settings from those too. */
export function withoutP2pmVariables(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && !entry[0].startsWith('P2PM_'),
    ),
  );
}
