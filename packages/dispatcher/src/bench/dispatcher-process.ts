import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { progress } from '@p2p-messenger/peer/bench-stats';
import { AdminApi } from './admin-api.js';
import { childrenOf, runs } from './proc.js';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
const READY_LINE = /^dispatcher ready: open (http:\/\/\S+?)\/? in a browser$/;
const START_TIMEOUT_MS = 30_000;
/**
 * It first lets the peers being started finish (up to its 20 s start timeout), then gives
 * each peer 5 s to stop (all at once); on a loaded machine that adds up.
 */
const STOP_TIMEOUT_MS = 60_000;
/** After the dispatcher exited, before its peers are killed. */
const PEER_EXIT_MS = 5_000;
const POLL_MS = 250;

export interface DispatcherInit {
  dataDir: string;
  pool: number;
  maxStarts: number;
  maxWaiting: number;
}

/**
 * The dispatcher command in a child process, as an operator runs it, with its admin API.
 * `launch` returns at once so that the caller's `finally` can stop whatever it started.
 */
export class DispatcherProcess {
  readonly #init: DispatcherInit;
  readonly #child: ChildProcess;
  readonly #exited: Promise<unknown>;
  readonly #ready: Promise<{ url: string; authorization: string }>;
  /** Its admin API, once it listens. */
  readonly admin: AdminApi;
  #stderr = '';

  private constructor(init: DispatcherInit) {
    this.#init = init;
    const args = [
      ...['--data-dir', init.dataDir, '--port', '0', '--log-file', join(init.dataDir, 'dispatcher.log')],
      ...['--pool', String(init.pool), '--max-starts', String(init.maxStarts)],
      ...['--max-waiting', String(init.maxWaiting)],
    ];
    this.#child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#exited = once(this.#child, 'exit');
    this.#child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-4_000);
    });
    this.#ready = this.#untilReady();
    // Not every caller gets to wait for it (a failure before); stop() does not need it.
    this.#ready.catch(() => {});
    this.admin = new AdminApi(this.#ready);
  }

  static launch(init: DispatcherInit): DispatcherProcess {
    return new DispatcherProcess(init);
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** Its URL, once it listens. */
  async ready(): Promise<string> {
    return (await this.#ready).url;
  }

  /** The peers it runs: its child processes. */
  /** Its peers: the children of its spawner process, which is its own child. */
  async peerPids(): Promise<number[]> {
    const peers = await Promise.all((await this.spawnerPids()).map((pid) => childrenOf(pid)));
    return this.#stillRunning(peers.flat());
  }

  async spawnerPids(): Promise<number[]> {
    return childrenOf(this.pid);
  }

  /** SIGTERM, and waits for it (and its peers) to exit; SIGKILL for whatever outstays. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const peers = await this.peerPids();
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => {
      progress(`  the dispatcher did not stop within ${STOP_TIMEOUT_MS / 1000} s: SIGKILL`);
      this.#child.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    await this.#exited;
    clearTimeout(timer);
    // Its peers exit with it (--exit-with-parent); any that did not are stopped here.
    const deadline = performance.now() + PEER_EXIT_MS;
    let left = await this.#stillRunning(peers);
    while (left.length > 0 && performance.now() < deadline) {
      await delay(POLL_MS);
      left = await this.#stillRunning(left);
    }
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // It exited just now.
      }
    }
  }

  async #stillRunning(pids: readonly number[]): Promise<number[]> {
    const running = await Promise.all(pids.map(async (pid) => ((await runs(pid, this.#init.dataDir)) ? pid : null)));
    return running.filter((pid) => pid !== null);
  }

  async #untilReady(): Promise<{ url: string; authorization: string }> {
    const lines = createInterface({ input: this.#child.stdout as NodeJS.ReadableStream });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the dispatcher did not start in time')), START_TIMEOUT_MS);
        lines.on('line', (line) => {
          const match = READY_LINE.exec(line);
          if (!match) return;
          clearTimeout(timer);
          resolve(match[1] as string);
        });
        void this.#exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`the dispatcher exited before it was ready: ${this.#stderr.trim()}`));
        });
      });
      const password = (await readFile(join(this.#init.dataDir, 'admin-password'), 'utf8')).trim();
      return { url, authorization: AdminApi.basic('admin', password) };
    } finally {
      lines.close();
      // What it prints later is not read: keep the pipe drained.
      this.#child.stdout?.resume();
    }
  }
}
