import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { LabHost, NetLab } from '@p2p-messenger/discovery/lab';
import { compiledSibling } from '@p2p-messenger/peer';
import { PeerIdentity } from '@p2p-messenger/proto';

const WORKER = compiledSibling(import.meta.url, './impostor-worker.js');

export interface ImpostorInit {
  /** Its own key pair's dir (made if missing): the only key it holds. */
  dataDir: string;
  port: number;
  /** The genuine record of the bridge it passes itself off as. */
  record: PeerIdentity;
}

/**
 * A federation port in a lab host that answers Identify with another bridge's genuine record
 * but holds only its own key (impostor-worker): what a dialer's pinned channel must refuse.
 */
export class ImpostorProcess {
  readonly #child: ChildProcess;
  #stdout = '';

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stdout += chunk;
    });
  }

  static async start(lab: NetLab, host: LabHost, init: ImpostorInit): Promise<ImpostorProcess> {
    const config = {
      dataDir: init.dataDir,
      port: init.port,
      recordBase64: Buffer.from(PeerIdentity.encode(init.record).finish()).toString('base64'),
    };
    const child = lab.spawn(host, process.execPath, [WORKER, JSON.stringify(config)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const impostor = new ImpostorProcess(child);
    const deadline = Date.now() + 20_000;
    while (!impostor.#stdout.includes('listening')) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await impostor.kill();
        throw new Error(`the impostor did not start in ${host.netns}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return impostor;
  }

  /** Link and Relay calls that got as far as the impostor's handlers (a pinned dialer makes none). */
  get linkCalls(): number {
    return this.#stdout.split('\n').filter((line) => line === 'link call').length;
  }

  async kill(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = once(this.#child, 'exit');
    this.#child.kill('SIGKILL');
    await exited;
  }
}
