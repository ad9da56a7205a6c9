import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabHost, NetLab } from '@p2p-messenger/discovery/lab';

/** tcpdump on every interface of a lab host, written to a pcap file the test reads afterwards. */
export class PacketCapture {
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly file: string;
  #stderr = '';

  private constructor(child: ChildProcess, dir: string) {
    this.#child = child;
    this.#dir = dir;
    this.file = join(dir, 'capture.pcap');
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr += chunk;
    });
  }

  /** Starts capturing and waits until tcpdump says it listens. */
  static async start(lab: NetLab, host: LabHost): Promise<PacketCapture> {
    const dir = await mkdtemp(join(tmpdir(), 'p2pm-capture-'));
    // -U: each packet written as it comes; -Z root: keep writing into this root-only dir.
    const child = lab.spawn(host, 'tcpdump', ['-i', 'any', '-U', '-Z', 'root', '-w', join(dir, 'capture.pcap')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const capture = new PacketCapture(child, dir);
    const deadline = Date.now() + 10_000;
    while (!capture.#stderr.includes('listening on')) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await capture.discard();
        throw new Error(`tcpdump did not start in ${host.netns}: ${capture.#stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return capture;
  }

  /** Stops tcpdump (SIGINT: it flushes and closes the file) and returns what it captured. */
  async stop(): Promise<Buffer> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      const exited = once(this.#child, 'exit');
      this.#child.kill('SIGINT');
      await exited;
    }
    return readFile(this.file);
  }

  /** What tcpdump said on stopping ("N packets captured"...). */
  get summary(): string {
    return this.#stderr;
  }

  async discard(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      const exited = once(this.#child, 'exit');
      this.#child.kill('SIGKILL');
      await exited;
    }
    await rm(this.#dir, { recursive: true, force: true });
  }
}
