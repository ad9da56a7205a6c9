import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LabHost, type Lan, NetLab } from '@p2p-messenger/discovery/lab';
import { compiledSibling } from '@p2p-messenger/peer';
import { PeerProcess } from '@p2p-messenger/peer/harness';
import { loadBridgeIdentity } from '../federation/bridge-identity.js';

const BRIDGE_MAIN = compiledSibling(import.meta.url, '../cli/main.js');
const FEDERATION_PORT = 7443;
const MULTICAST = { intervalMs: 500, expiryMs: 3_000, families: ['ipv4' as const] };

interface BridgeHandle {
  child: ChildProcess;
  id: string;
  host: LabHost;
}

/**
 * The benchmark's networks: LAN A (peers a1, a2 and bridge A), LAN B (peer b1 and bridge
 * B), and a third LAN between the bridges only. a1 reaches a2 directly and b1 only through
 * both bridges.
 */
export class BenchLans {
  readonly lab: NetLab;
  readonly dir: string;
  readonly bridges: BridgeHandle[] = [];
  readonly peers: PeerProcess[] = [];

  private constructor(lab: NetLab, dir: string) {
    this.lab = lab;
    this.dir = dir;
  }

  static async start(): Promise<{ lans: BenchLans; a1: PeerProcess; a2: PeerProcess; b1: PeerProcess }> {
    const lab = await NetLab.create();
    const lans = new BenchLans(lab, await mkdtemp(join(tmpdir(), 'bench-bridge-')));
    try {
      const [lanA, lanB, wan] = [await lab.addLan(), await lab.addLan(), await lab.addLan()];
      const hostA = await lab.addHost(lanA);
      const hostB = await lab.addHost(lanB);
      const wanA = await lab.join(hostA, wan);
      await lab.join(hostB, wan);
      const idA = (await loadBridgeIdentity(join(lans.dir, 'bridge-a'), 'bridge-a')).id;
      const idB = (await loadBridgeIdentity(join(lans.dir, 'bridge-b'), 'bridge-b')).id;
      await lans.#startBridge(hostA, 'bridge-a', ['--listen', `${wanA.ipv4}:${FEDERATION_PORT}`, '--trust', idB]);
      await lans.#startBridge(hostB, 'bridge-b', ['--join', `${idA}@${wanA.ipv4}:${FEDERATION_PORT}`]);
      const [a1, a2, b1] = await Promise.all([
        lans.#startPeer(lanA, 'a1'),
        lans.#startPeer(lanA, 'a2'),
        lans.#startPeer(lanB, 'b1'),
      ]);
      return { lans, a1, a2, b1 };
    } catch (err) {
      await lans.stop();
      throw err;
    }
  }

  async #startBridge(host: LabHost, name: string, args: string[]): Promise<void> {
    const common = ['--lan', '--interface', 'eth0', '--multicast-family', 'ipv4', '--announce-interval', '500'];
    const child = this.lab.spawn(
      host,
      process.execPath,
      [BRIDGE_MAIN, ...common, '--name', name, '--data-dir', join(this.dir, name), '--log-level', 'warn', ...args],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const id = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const ready = /bridge (\w+) ready/.exec(out);
        if (ready?.[1]) resolve(ready[1]);
      });
      child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
    });
    this.bridges.push({ child, id, host });
  }

  async #startPeer(lan: Lan, name: string): Promise<PeerProcess> {
    const host = await this.lab.addHost(lan);
    const peer = await PeerProcess.start(
      { name, dataDir: join(this.dir, name), discovery: { multicast: MULTICAST } },
      30_000,
      host.netns,
    );
    this.peers.push(peer);
    return peer;
  }

  async stop(): Promise<void> {
    await Promise.all(this.peers.map((peer) => peer.stop()));
    await Promise.all(
      this.bridges.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }),
    );
    await this.lab.destroy();
    await rm(this.dir, { recursive: true, force: true });
  }
}
