import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerProcess } from '../../src/harness/peer-process.js';

/**
 * What one test started: peer processes and temp dirs, all released by `cleanup()` (call it
 * from afterEach, so it runs when the test fails too).
 */
export class TestResources {
  readonly #peers = new Set<PeerProcess>();
  readonly #dirs: string[] = [];
  readonly #closers: (() => Promise<void> | void)[] = [];

  async dir(prefix = 'peer-test-'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.#dirs.push(dir);
    return dir;
  }

  track(peer: PeerProcess): PeerProcess {
    this.#peers.add(peer);
    return peer;
  }

  onCleanup(close: () => Promise<void> | void): void {
    this.#closers.push(close);
  }

  async cleanup(): Promise<void> {
    await Promise.all([...this.#peers].map((peer) => peer.kill()));
    this.#peers.clear();
    for (const close of this.#closers.splice(0)) await close();
    await Promise.all(this.#dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}
