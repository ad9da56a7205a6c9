import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LabHost, NetLab } from '../lab/net-lab.js';
import type { DirectoryWorkerConfig, DirectoryWorkerMessage, DirectoryWorkerRequest } from './directory-protocol.js';
import { EventLog, type SeenEvent } from './event-log.js';
import { IpcRequests } from './ipc-requests.js';

const WORKER = fileURLToPath(new URL('./directory-worker.js', import.meta.url));

/** A directory worker running in a lab host, driven over IPC. */
export class DirectoryProcess {
  readonly #log = new EventLog();
  readonly #child: ChildProcess;
  readonly #requests: IpcRequests;
  id = '';

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.#requests = new IpcRequests((message) => child.send(message));
    child.on('message', (message: DirectoryWorkerMessage) => {
      if (message.type === 'event') {
        this.#log.record({ event: message.event, peer: message.peer, reason: message.reason, atMs: message.atMs });
      } else if (message.type === 'reply') {
        this.#requests.settle(
          message.seq,
          message.error ? { error: new Error(message.error) } : { value: message.value },
        );
      }
    });
    child.once('exit', () => this.#requests.failAll(new Error('directory worker exited')));
  }

  static async start(lab: NetLab, host: LabHost, config: DirectoryWorkerConfig): Promise<DirectoryProcess> {
    const child = lab.spawn(host, process.execPath, [WORKER, JSON.stringify(config)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const worker = new DirectoryProcess(child);
    worker.id = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`directory worker ${config.name} did not start`)), 20_000);
      child.on('message', (message: DirectoryWorkerMessage) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve(message.id);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`directory worker ${config.name} exited with ${code}`));
      });
    });
    return worker;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  request<T>(request: DirectoryWorkerRequest, timeoutMs = 10_000): Promise<T> {
    return this.#requests.request<T>(request, timeoutMs);
  }

  get events(): readonly SeenEvent[] {
    return this.#log.events;
  }

  waitFor(match: (event: SeenEvent) => boolean, timeoutMs?: number): Promise<SeenEvent> {
    return this.#log.waitFor(match, timeoutMs);
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    await this.request({ op: 'stop' }).catch(() => {});
    await exited;
  }

  /** kill -9: no goodbye. */
  async kill(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.kill('SIGKILL');
    await exited;
  }
}
