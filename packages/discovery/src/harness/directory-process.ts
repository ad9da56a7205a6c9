import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LabHost, NetLab } from '../lab/net-lab.js';
import type { DirectoryWorkerConfig, DirectoryWorkerMessage, DirectoryWorkerRequest } from './directory-protocol.js';
import { EventLog, type SeenEvent } from './event-log.js';

const WORKER = fileURLToPath(new URL('./directory-worker.js', import.meta.url));

/** A directory worker running in a lab host, driven over IPC. */
export class DirectoryProcess {
  readonly #log = new EventLog();
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #seq = 0;
  id = '';

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (message: DirectoryWorkerMessage) => {
      if (message.type === 'event') {
        this.#log.record({ event: message.event, peer: message.peer, reason: message.reason, atMs: message.atMs });
      } else if (message.type === 'reply') {
        const pending = this.#pending.get(message.seq);
        this.#pending.delete(message.seq);
        if (message.error) pending?.reject(new Error(message.error));
        else pending?.resolve(message.value);
      }
    });
    child.once('exit', () => {
      for (const { reject } of this.#pending.values()) reject(new Error('directory worker exited'));
      this.#pending.clear();
    });
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
    const seq = ++this.#seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(seq);
        reject(new Error(`${request.op} got no answer`));
      }, timeoutMs);
      this.#pending.set(seq, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#child.send({ seq, request });
    });
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
