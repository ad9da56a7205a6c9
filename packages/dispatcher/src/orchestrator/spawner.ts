import { type ChildProcess, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { compiledSibling } from '@p2p-messenger/peer';
import type { SpawnerEvent, SpawnerRequest } from './spawner-protocol.js';

const SPAWNER = compiledSibling(import.meta.url, './spawner-process.js');

/** A process the spawner started: the part of a ChildProcess the orchestrator uses. */
export class SpawnedChild extends EventEmitter<{ exit: [code: number | null, signal: NodeJS.Signals | null] }> {
  pid: number | undefined;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly #kill: (signal: NodeJS.Signals) => void;

  constructor(kill: (signal: NodeJS.Signals) => void) {
    super();
    this.#kill = kill;
  }

  get exited(): boolean {
    return this.exitCode !== null || this.signalCode !== null;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.exited) this.#kill(signal);
  }

  /** The spawner saw it end (or the spawner itself went, taking it along). */
  ended(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exited) return;
    this.exitCode = code;
    this.signalCode = code === null ? (signal ?? 'SIGKILL') : null;
    this.stdout.end();
    this.stderr.end();
    this.emit('exit', this.exitCode, this.signalCode);
  }
}

/**
 * Starts processes through a small helper process (spawner-process.ts), so that the fork of a
 * large process never holds the dispatcher's event loop. The helper is started with the first
 * spawn, and again after it died (its children then count as killed: they end with it).
 */
export class Spawner {
  #helper: ChildProcess | null = null;
  /** Each child with the helper that started it (an old helper may still be ending). */
  readonly #children = new Map<number, { child: SpawnedChild; helper: ChildProcess }>();
  #nextKey = 1;

  spawn(command: string, args: string[], env: NodeJS.ProcessEnv, niceness: number): SpawnedChild {
    const helper = this.#helper ?? this.#startHelper();
    const key = this.#nextKey++;
    const child = new SpawnedChild((signal) => send(helper, { type: 'kill', key, signal }));
    this.#children.set(key, { child, helper });
    send(helper, { type: 'spawn', key, command, args, env, niceness });
    return child;
  }

  /** Lets the helper go; it ends, and with it whatever it started that still runs. */
  close(): void {
    const helper = this.#helper;
    this.#helper = null;
    if (helper?.connected) helper.disconnect();
  }

  #startHelper(): ChildProcess {
    const helper = fork(SPAWNER, [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: ['--max-semi-space-size=1'],
    });
    helper.on('message', (event: SpawnerEvent) => this.#onEvent(event));
    helper.once('exit', () => {
      if (this.#helper === helper) this.#helper = null;
      for (const [key, entry] of this.#children) {
        if (entry.helper !== helper) continue;
        this.#children.delete(key);
        entry.child.ended(null, 'SIGKILL');
      }
    });
    // Neither the helper nor its channel keeps the dispatcher running: its exit closes both.
    helper.unref();
    helper.channel?.unref();
    this.#helper = helper;
    return helper;
  }

  #onEvent(event: SpawnerEvent): void {
    const child = this.#children.get(event.key)?.child;
    if (!child) return;
    switch (event.type) {
      case 'spawned':
        child.pid = event.pid;
        break;
      case 'stdout':
      case 'stderr':
        child[event.type].write(event.chunk);
        break;
      case 'exit':
        this.#children.delete(event.key);
        child.ended(event.code, event.signal);
        break;
    }
  }
}

function send(helper: ChildProcess, request: SpawnerRequest): void {
  if (helper.connected) helper.send(request);
}
