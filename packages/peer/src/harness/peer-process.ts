import { type ChildProcess, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { IpcRequests } from '@p2p-messenger/discovery/lab';
import type { PeerSummary } from '../peer.js';
import { compiledSibling } from '../util/compiled-path.js';
import type { WorkerMessage, WorkerPeerOptions, WorkerRequest } from './protocol.js';

const WORKER = compiledSibling(import.meta.url, './peer-worker.js');

type Ready = Extract<WorkerMessage, { type: 'ready' }>;

/** A peer running in a child process (peer-worker), for tests and benchmarks. */
export class PeerProcess {
  readonly child: ChildProcess;
  readonly id: string;
  readonly fingerprint: string;
  readonly greetingPort: number;
  readonly securePort: number;
  /** When the peer began to start, by the machine's clock (it announces itself before it is ready). */
  readonly startedAtMs: number;
  /** Messages received from other peers since start (reported every 20 ms). */
  received = 0;
  /** Highest count of `sendMany` messages known to be stored. */
  accepted = 0;
  /** Every 'peer' event of the peer, as it happened. */
  readonly peerEvents: { summary: PeerSummary; atMs: number }[] = [];
  readonly #requests: IpcRequests;
  readonly #exited: Promise<void>;

  private constructor(child: ChildProcess, ready: Ready) {
    this.child = child;
    this.id = ready.id;
    this.fingerprint = ready.fingerprint;
    this.greetingPort = ready.greetingPort;
    this.securePort = ready.securePort;
    this.startedAtMs = ready.startedAtMs;
    this.#requests = new IpcRequests((message) => child.send(message));
    this.#exited = once(child, 'exit').then(() => this.#requests.failAll(new Error('peer process exited')));
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'received') this.received = message.total;
      else if (message.type === 'peer') this.peerEvents.push({ summary: message.summary, atMs: message.atMs });
      else if (message.type === 'accepted') this.accepted = Math.max(this.accepted, message.count);
      else if (message.type === 'reply') {
        this.#requests.settle(
          message.seq,
          message.ok
            ? { value: message.value }
            : { error: Object.assign(new Error(message.error.message), { name: message.error.name }) },
        );
      }
    });
  }

  /** Starts a peer; in the network namespace `netns` if given (needs root). */
  static async start(options: WorkerPeerOptions, startTimeoutMs = 20_000, netns?: string): Promise<PeerProcess> {
    const args = [WORKER, JSON.stringify({ listenHost: netns ? '0.0.0.0' : '127.0.0.1', ...options })];
    const stdio: ['ignore', 'inherit', 'inherit', 'ipc'] = ['ignore', 'inherit', 'inherit', 'ipc'];
    const child = netns
      ? spawn('ip', ['netns', 'exec', netns, process.execPath, ...args], { stdio })
      : fork(args[0] as string, args.slice(1), { stdio });
    const ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`peer ${options.name} did not start within ${startTimeoutMs} ms`));
      }, startTimeoutMs);
      child.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve(message);
        } else if (message.type === 'fatal') {
          clearTimeout(timer);
          reject(Object.assign(new Error(message.error.message), { name: message.error.name }));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`peer ${options.name} exited with ${code} before it was ready`));
      });
    });
    return new PeerProcess(child, ready);
  }

  request<T>(request: WorkerRequest, timeoutMs = 60_000): Promise<T> {
    return this.#requests.request<T>(request, timeoutMs);
  }

  /** Polls `check` until it is true; fails with `what` after the timeout. */
  async until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** kill -9: no chance to flush or say goodbye. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.#exited;
  }

  /** Graceful stop; kills the process if it does not exit in time. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    this.request({ op: 'stop' }, timeoutMs).catch(() => {});
    await this.#exited;
    clearTimeout(timer);
  }
}

/** A TCP port that was free a moment ago (for peers that must come back on the same ports). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
