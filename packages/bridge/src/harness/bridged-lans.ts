import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LabHost, type Lan, NetLab } from '@p2p-messenger/discovery/lab';
import { PeerProcess } from '@p2p-messenger/peer/harness';
import { loadBridgeIdentity } from '../federation/bridge-identity.js';
import { BridgeProcess, type BridgeProcessOptions } from './bridge-process.js';

/** Bridges in a line (each joins the next) or a triangle (each pair linked). */
export type Topology = 'line' | 'triangle';

/** LAN discovery timing, the same for bridges and peers (short in tests, so that expiry is quick). */
export interface LabMulticast {
  intervalMs: number;
  expiryMs: number;
}

export interface BridgedLansInit {
  /** How many LANs, each with a bridge (at least 2; a triangle needs 3). */
  lans: number;
  topology?: Topology;
  multicast?: Partial<LabMulticast>;
  /** More options of one bridge's command (by LAN index), say more flags. */
  bridge?: (index: number) => Partial<BridgeProcessOptions>;
  /** Start the bridges (default); false leaves it to `startBridge`. */
  startBridges?: boolean;
}

/** One LAN of the lab and the bridge host on it (eth0 on this LAN, one more interface per link). */
export interface BridgedLan {
  readonly index: number;
  readonly lan: Lan;
  readonly bridgeHost: LabHost;
  readonly dataDir: string;
  readonly bridgeId: string;
  /** The bridge running now (a new process after a restart); null before it started or after it stopped. */
  bridge: BridgeProcess | null;
}

/**
 * A federation link over a "WAN" of its own: a LAN with only the two bridge hosts on it.
 * `dialer` joins `listener`; cut it at either end with `NetLab.setLink` on the interface named.
 */
export interface WanLink {
  readonly dialer: number;
  readonly listener: number;
  readonly wan: Lan;
  readonly dialerInterface: string;
  readonly listenerInterface: string;
  readonly listenerAddress: string;
}

export interface LabPeer {
  peer: PeerProcess;
  host: LabHost;
}

type PeerOptions = Parameters<typeof PeerProcess.start>[0];

export const FEDERATION_PORT = 7443;
export const LAB_MULTICAST: Readonly<LabMulticast> = Object.freeze({ intervalMs: 300, expiryMs: 1_500 });

/**
 * LANs built from network namespaces (real multicast inside each, no route between them),
 * each with a host running the real `bridge` command on it and on one WAN per federation
 * link; the bridges trust their neighbours and join them in a line or a triangle. Peers run
 * in hosts of their own on a LAN. `destroy()` ends every process and removes every namespace.
 */
export class BridgedLans {
  readonly lab: NetLab;
  readonly lans: readonly BridgedLan[];
  readonly links: readonly WanLink[];
  readonly multicast: Readonly<LabMulticast>;
  readonly #init: BridgedLansInit;
  readonly #root: string;
  readonly #peers: PeerProcess[] = [];
  readonly #extraBridges: BridgeProcess[] = [];

  private constructor(parts: {
    lab: NetLab;
    lans: BridgedLan[];
    links: WanLink[];
    multicast: LabMulticast;
    init: BridgedLansInit;
    root: string;
  }) {
    this.lab = parts.lab;
    this.lans = parts.lans;
    this.links = parts.links;
    this.multicast = parts.multicast;
    this.#init = parts.init;
    this.#root = parts.root;
  }

  static async create(init: BridgedLansInit): Promise<BridgedLans> {
    const topology = init.topology ?? 'line';
    if (!Number.isInteger(init.lans) || init.lans < 2) throw new RangeError('bridged LANs need at least 2 LANs');
    if (topology === 'triangle' && init.lans !== 3) throw new RangeError('a triangle joins exactly 3 LANs');
    if (!(await NetLab.available())) throw new Error('bridged LANs need root and iproute2 (ip netns)');
    const lab = await NetLab.create();
    const root = await mkdtemp(join(tmpdir(), 'p2pm-lans-'));
    const multicast = { ...LAB_MULTICAST, ...init.multicast };
    const lans: BridgedLan[] = [];
    const links: WanLink[] = [];
    const made = new BridgedLans({ lab, lans, links, multicast, init, root });
    try {
      for (let index = 0; index < init.lans; index++) {
        const lan = await lab.addLan();
        const bridgeHost = await lab.addHost(lan);
        const dataDir = join(root, `bridge-${index}`);
        // The key pair is made before any bridge starts, so that each can be told the others' ids.
        const { id } = await loadBridgeIdentity(dataDir, bridgeName(index));
        lans.push({ index, lan, bridgeHost, dataDir, bridgeId: id, bridge: null });
      }
      for (const [dialer, listener] of linkPairs(init.lans, topology)) {
        const wan = await lab.addLan();
        const [from, to] = [lans[dialer] as BridgedLan, lans[listener] as BridgedLan];
        const dialerSide = await lab.join(from.bridgeHost, wan);
        const listenerSide = await lab.join(to.bridgeHost, wan);
        links.push({
          dialer,
          listener,
          wan,
          dialerInterface: dialerSide.name,
          listenerInterface: listenerSide.name,
          listenerAddress: listenerSide.ipv4,
        });
      }
      if (init.startBridges !== false) {
        // All at once: a dialer that finds no listener yet tries again within a second.
        await Promise.all(lans.map((lan) => made.startBridge(lan.index)));
      }
    } catch (err) {
      await made.destroy();
      throw err;
    }
    return made;
  }

  lanOf(index: number): BridgedLan {
    const lan = this.lans[index];
    if (!lan) throw new RangeError(`there is no LAN ${index}`);
    return lan;
  }

  /** The running bridge of a LAN (throws when it is not running). */
  bridge(index: number): BridgeProcess {
    const bridge = this.lanOf(index).bridge;
    if (!bridge?.running) throw new Error(`the bridge of LAN ${index} is not running`);
    return bridge;
  }

  /** The command's options for a LAN's bridge: the bridges that dial it trusted, the ones it dials joined. */
  bridgeOptions(index: number): BridgeProcessOptions {
    const own = this.lanOf(index);
    // Trust is for bridges that link in: the ones that dial this one.
    const dialers = this.links.filter((l) => l.listener === index).map((l) => l.dialer);
    const joins = this.links.filter((l) => l.dialer === index);
    const extra = this.#init.bridge?.(index) ?? {};
    return {
      dataDir: own.dataDir,
      name: bridgeName(index),
      ...(this.links.some((l) => l.listener === index) ? { listen: `0.0.0.0:${FEDERATION_PORT}` } : {}),
      trust: dialers.map((n) => this.lanOf(n).bridgeId),
      join: joins.map((l) => `${this.lanOf(l.listener).bridgeId}@${l.listenerAddress}:${FEDERATION_PORT}`),
      // Only the bridge's own LAN: its WAN interfaces carry links, not announcements.
      lan: { interfaces: ['eth0'], family: 'ipv4', ...this.multicast },
      ...extra,
    };
  }

  /** Starts a LAN's bridge (again, after a stop or a kill: same data dir, same id). */
  async startBridge(index: number, options: BridgeProcessOptions = this.bridgeOptions(index)): Promise<BridgeProcess> {
    const own = this.lanOf(index);
    if (own.bridge?.running) throw new Error(`the bridge of LAN ${index} is running already`);
    own.bridge = await BridgeProcess.start(this.lab, own.bridgeHost, options);
    return own.bridge;
  }

  /** A directory under the lab's own, removed with it (for the data of extra bridges and peers). */
  dataDir(name: string): string {
    return join(this.#root, name);
  }

  /**
   * A bridge of a test's own making (a stranger, an impostor) in any lab host; ended with the
   * lab. Its data dir should be one of `dataDir`'s.
   */
  async startBridgeIn(host: LabHost, options: BridgeProcessOptions): Promise<BridgeProcess> {
    const bridge = await BridgeProcess.start(this.lab, host, options);
    this.#extraBridges.push(bridge);
    return bridge;
  }

  /** A host of its own on a LAN (for a peer, a capture, a stranger). */
  addHost(index: number): Promise<LabHost> {
    return this.lab.addHost(this.lanOf(index).lan);
  }

  /** A peer in a new host on a LAN, found by multicast with the lab's timing. */
  async startPeer(index: number, name: string, options: Partial<PeerOptions> = {}): Promise<LabPeer> {
    const host = await this.addHost(index);
    const peer = await PeerProcess.start(
      {
        name,
        dataDir: this.dataDir(`peer-${name}-${host.netns}`),
        discovery: { multicast: { families: ['ipv4'], ...this.multicast } },
        reconnectMinDelayMs: 50,
        reconnectMaxDelayMs: 1_000,
        ...options,
      },
      20_000,
      host.netns,
    );
    this.#peers.push(peer);
    return { peer, host };
  }

  /** Ends every peer and bridge, removes the namespaces and the data dirs. Safe to call twice. */
  async destroy(): Promise<void> {
    await Promise.all(this.#peers.splice(0).map((peer) => peer.kill()));
    await Promise.all([...this.lans.map((lan) => lan.bridge), ...this.#extraBridges.splice(0)].map((b) => b?.kill()));
    await this.lab.destroy();
    await rm(this.#root, { recursive: true, force: true });
  }
}

function bridgeName(index: number): string {
  return `bridge-${String.fromCharCode(97 + index)}`;
}

/** [dialer, listener] per link: a line joins each LAN's bridge to the next; a triangle also the last to the first. */
function linkPairs(count: number, topology: Topology): [number, number][] {
  const pairs: [number, number][] = [];
  for (let i = 0; i + 1 < count; i++) pairs.push([i, i + 1]);
  if (topology === 'triangle') pairs.push([0, count - 1]);
  return pairs;
}
