import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The built lab and bridge harness, as the bridge package's own tests use them (one NetLab class for both).
import { BridgeProcess } from '../../packages/bridge/dist/harness/index.js';
import { loadBridgeIdentity } from '../../packages/bridge/dist/index.js';
import { type LabHost, NetLab } from '../../packages/discovery/dist/lab/index.js';
import { CliProcess, type Exit } from '../../packages/peer/test/helpers/cli-process.js';
import { withoutP2pmVariables } from './dispatcher.js';

/** A bridge to join: its id and federation address. */
export interface JoinTarget {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

/** The `peer` command of the person at home, with the id it printed when it started. */
export interface HomePeer {
  readonly process: CliProcess;
  readonly id: string;
}

/** Announcements every half second (2 s by default): the LAN and the bridge learn of each other sooner. */
const ANNOUNCE_INTERVAL_MS = 500;
const READY_TIMEOUT_MS = 30_000;
const PEER_ID = /^ {2}id +([a-z2-7]{32})$/m;

/**
 * A home network and the dispatcher's, built from namespaces:
 *   home LAN:  `peerHost` (a person with the `peer` command) and `bridgeHost` (eth0)
 *   cloud LAN: `dispatcherHost` (the dispatcher and its peers), `bridgeHost` (eth1), and this
 *              machine itself (`browserAddress`), where the browser runs
 * No host forwards, and none has a default route: the home peer reaches the dispatcher's peers
 * only through the home bridge and the dispatcher's, and the dispatcher's peers, trying the home
 * peer's own addresses first, find no route to them (rather than this machine's default route).
 */
export class HomeLan {
  readonly #lab: NetLab;
  readonly #dirs: string[];
  readonly #processes: CliProcess[] = [];
  readonly #bridges: BridgeProcess[] = [];

  private constructor(
    lab: NetLab,
    readonly peerHost: LabHost,
    readonly bridgeHost: LabHost,
    readonly dispatcherHost: LabHost,
    /** This machine's address on the cloud LAN. */
    readonly browserAddress: string,
    /** The home bridge's id, known before it starts (its key is made in its data dir). */
    readonly bridgeId: string,
    readonly bridgeDir: string,
  ) {
    this.#lab = lab;
    this.#dirs = [bridgeDir];
  }

  static async create(): Promise<HomeLan> {
    if (!(await NetLab.available())) throw new Error('the home LAN needs root and iproute2 (ip netns)');
    const lab = await NetLab.create();
    try {
      const [home, cloud] = [await lab.addLan(), await lab.addLan()];
      const peerHost = await lab.addHost(home);
      const bridgeHost = await lab.addHost(home);
      await lab.join(bridgeHost, cloud);
      const dispatcherHost = await lab.addHost(cloud);
      const root = await lab.joinRoot(cloud);
      const bridgeDir = await mkdtemp(join(tmpdir(), 'p2pm-e2e-home-bridge-'));
      const { id } = await loadBridgeIdentity(bridgeDir, 'home');
      return new HomeLan(lab, peerHost, bridgeHost, dispatcherHost, root.ipv4, id, bridgeDir);
    } catch (err) {
      await lab.destroy();
      throw err;
    }
  }

  /** The `bridge` command on the bridge host: the home LAN's side on eth0, joining `target`. */
  async startBridge(target: JoinTarget): Promise<BridgeProcess> {
    const bridge = await BridgeProcess.start(this.#lab, this.bridgeHost, {
      name: 'home',
      dataDir: this.bridgeDir,
      // The id in --join is checked when it dials; --trust is for bridges linking in (this one only dials).
      join: [`${target.id}@${target.host}:${target.port}`],
      lan: { interfaces: ['eth0'], family: 'ipv4', intervalMs: ANNOUNCE_INTERVAL_MS },
      readyTimeoutMs: READY_TIMEOUT_MS,
    });
    this.#bridges.push(bridge);
    return bridge;
  }

  /** The `peer` command, interactive, on the peer host: what the person types goes to its stdin. */
  async startPeer(name: string): Promise<HomePeer> {
    const dataDir = await mkdtemp(join(tmpdir(), `p2pm-e2e-${name}-`));
    this.#dirs.push(dataDir);
    const args = [
      ...['--name', name, '--data-dir', dataDir],
      ...['--multicast-interface', 'eth0', '--multicast-family', 'ipv4'],
      ...['--announce-interval', String(ANNOUNCE_INTERVAL_MS)],
      ...['--log-file', '-'],
    ];
    const peer = this.#start(
      new CliProcess(name, args, withoutP2pmVariables(process.env), { netns: this.peerHost.netns }),
    );
    const [, id = ''] = await peer.waitFor(PEER_ID, { timeoutMs: READY_TIMEOUT_MS });
    await peer.waitFor(/^Type \/help/m, { timeoutMs: READY_TIMEOUT_MS });
    return { process: peer, id };
  }

  /** Whether a TCP connection from one of the LAN's hosts to `host:port` gets anywhere (refused counts as reached). */
  async reaches(from: LabHost, host: string, port: number): Promise<boolean> {
    const script = `const s = require('node:net').connect(${port}, ${JSON.stringify(host)});
      s.setTimeout(2000, () => { process.stdout.write('timeout'); s.destroy(); });
      s.on('connect', () => { process.stdout.write('connected'); s.destroy(); });
      s.on('error', (e) => process.stdout.write(e.code));`;
    const outcome = await this.#lab.exec(from, process.execPath, ['-e', script]);
    return outcome === 'connected' || outcome === 'ECONNREFUSED';
  }

  /** The last lines each process of the LAN wrote (its log), to print when a test failed. */
  logTail(lines = 40): string {
    const last = (text: string) => text.trimEnd().split('\n').slice(-lines).join('\n');
    const bridges = this.#bridges.map(
      (b) => `--- bridge ${b.id} (last ${lines} lines of its log) ---\n${last(b.output('stderr'))}\n`,
    );
    const peers = this.#processes.map(
      (p) =>
        `--- ${p.label}: stdout ---\n${p.output('stdout')}--- ${p.label}: stderr (last ${lines} lines) ---\n${last(p.output('stderr'))}\n`,
    );
    return [...bridges, ...peers].join('');
  }

  /** Kills what still runs, removes the namespaces, the bridges and the data dirs. */
  async destroy(): Promise<void> {
    await Promise.all(this.#processes.splice(0).map((p) => p.kill()));
    await Promise.all(this.#bridges.splice(0).map((b) => b.kill()));
    await this.#lab.destroy();
    await Promise.all(this.#dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }

  #start(started: CliProcess): CliProcess {
    this.#processes.push(started);
    return started;
  }
}

/** The process's exit, once it came within `timeoutMs` (after a /quit or a SIGTERM); else it is killed and this fails. */
export async function exitWithin(started: CliProcess, timeoutMs = 15_000): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs);
  });
  const result = await Promise.race([started.exited, late]);
  clearTimeout(timer);
  if (result !== 'late') return result;
  await started.kill();
  throw new Error(`${started.label} did not exit within ${timeoutMs} ms (killed)`);
}
