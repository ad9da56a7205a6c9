import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** What the bot tells the demo over the IPC channel. */
export type BotMessage =
  | { type: 'ready'; id: string; fingerprint: string; greetingPort: number; securePort: number }
  | { type: 'fatal'; name: string; message: string };

type Ready = Extract<BotMessage, { type: 'ready' }>;

/** The demo runs from dist/, so the bot is the compiled sibling. */
const BOT = fileURLToPath(new URL('./bot.js', import.meta.url));

/** The bot's process, seen from the demo: who it is, and how to stop it. */
export class BotProcess {
  readonly id: string;
  readonly fingerprint: string;
  readonly greetingPort: number;
  readonly securePort: number;
  /** Resolves with the exit code (null after a signal) once the process is gone. */
  readonly exited: Promise<number | null>;
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess, exited: Promise<number | null>, ready: Ready) {
    this.#child = child;
    this.exited = exited;
    this.id = ready.id;
    this.fingerprint = ready.fingerprint;
    this.greetingPort = ready.greetingPort;
    this.securePort = ready.securePort;
  }

  /** Forks the bot with its data in `demoDir` and waits until its peer is listening. */
  static async start(
    demoDir: string,
    { signal, timeoutMs = 20_000 }: { signal?: AbortSignal; timeoutMs?: number } = {},
  ) {
    // stdout is not needed (the bot logs to the demo's log); stderr shows a failure to start.
    const child = fork(BOT, [demoDir], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const exited = once(child, 'exit').then(
      ([code]) => code as number | null,
      () => null, // it never ran
    );
    const deadline = AbortSignal.timeout(timeoutMs);
    const stopWaiting = signal ? AbortSignal.any([signal, deadline]) : deadline;
    try {
      const ready = await new Promise<Ready>((resolve, reject) => {
        const onAbort = () =>
          reject(deadline.aborted ? new Error(`the bot did not start within ${timeoutMs / 1000} s`) : signal?.reason);
        stopWaiting.addEventListener('abort', onAbort, { once: true });
        const settle = (settled: () => void) => {
          stopWaiting.removeEventListener('abort', onAbort);
          settled();
        };
        child.on('message', (message: BotMessage) => {
          if (message.type === 'ready') settle(() => resolve(message));
          else settle(() => reject(Object.assign(new Error(message.message), { name: message.name })));
        });
        void exited.then((code) =>
          settle(() => reject(new Error(`the bot exited (code ${code}) before it was ready`))),
        );
      });
      child.removeAllListeners('message');
      return new BotProcess(child, exited, ready);
    } catch (err) {
      child.kill('SIGKILL');
      await exited;
      throw err;
    }
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get isRunning(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Asks the bot to stop (by closing its IPC channel), and kills it if it takes too long. */
  async stop(timeoutMs = 5_000): Promise<void> {
    if (!this.isRunning) return;
    const timer = setTimeout(() => this.kill(), timeoutMs);
    if (this.#child.connected) this.#child.disconnect();
    await this.exited;
    clearTimeout(timer);
  }

  /** kill -9, for when the demo exits without a chance to stop the bot. Synchronous. */
  kill(): void {
    if (this.isRunning) this.#child.kill('SIGKILL');
  }
}
