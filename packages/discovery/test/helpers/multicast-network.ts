import { DirectoryProcess, type LabHost, type Lan, NetLab } from '@p2p-messenger/discovery/lab';
import type { ComplianceNetwork, DirectoryUnderTest } from './compliance.js';

export const FAST = { intervalMs: 200, expiryMs: 700 } as const;

/** Multicast directories, each in its own host of one lab LAN. */
export class MulticastNetwork implements ComplianceNetwork {
  readonly lab: NetLab;
  readonly lan: Lan;
  readonly workers: DirectoryProcess[] = [];

  private constructor(lab: NetLab, lan: Lan) {
    this.lab = lab;
    this.lan = lan;
  }

  static async create(): Promise<MulticastNetwork> {
    if (!(await NetLab.available())) {
      throw new Error('these tests need root and iproute2 (ip netns) to build LANs from network namespaces');
    }
    const lab = await NetLab.create();
    try {
      return new MulticastNetwork(lab, await lab.addLan());
    } catch (err) {
      await lab.destroy();
      throw err;
    }
  }

  async join(
    name: string,
    ports: { greetingPort: number; securePort: number },
    extra: {
      families?: ('ipv4' | 'ipv6')[];
      lan?: Lan;
      /** Speaks for a bridge (its list is set with the worker's setRelayed). */
      relay?: boolean;
      timing?: { intervalMs: number; expiryMs: number };
    } = {},
  ): Promise<DirectoryUnderTest & { worker: DirectoryProcess; host: LabHost }> {
    const host = await this.lab.addHost(extra.lan ?? this.lan);
    const worker = await DirectoryProcess.start(this.lab, host, {
      name,
      ...ports,
      ...(extra.timing ?? FAST),
      ...(extra.families ? { families: extra.families } : {}),
      ...(extra.relay ? { relay: true } : {}),
    });
    this.workers.push(worker);
    return {
      id: worker.id,
      name,
      events: worker.events,
      worker,
      host,
      peers: () => worker.request({ op: 'peers' }),
      waitFor: (match, timeoutMs) => worker.waitFor(match, timeoutMs),
      stop: () => worker.stop(),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.kill()));
    await this.lab.destroy();
  }
}
