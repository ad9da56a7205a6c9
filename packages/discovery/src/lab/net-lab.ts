import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { once } from 'node:events';
import { raiseNeighbourLimits, restoreNeighbourLimits } from './neighbour-limits.js';
import { lockRootAddress } from './root-address-lock.js';
import { hasCommand, run, tryRun } from './run.js';

/** A LAN: a Linux bridge with an IPv4 /24 and an IPv6 ULA /64. */
export interface Lan {
  bridge: string;
  index: number;
}

/** One of a host's interfaces: eth0 on the LAN it was made on, eth1... on LANs it joined. */
export interface LabInterface {
  name: string;
  lan: Lan;
  ipv4: string;
  ipv6: string;
}

/**
 * A host: a network namespace with one interface (eth0) on a LAN, and more if it joined
 * other LANs. It never forwards between them (a new namespace does not), so LANs stay apart
 * unless a process on such a host joins them.
 */
export interface LabHost {
  netns: string;
  lan: Lan;
  ipv4: string;
  ipv6: string;
  interfaces: LabInterface[];
}

const PREFIX = 'p2pl';
/** The root namespace's number on a LAN it joins (hosts are numbered up to 250). */
const ROOT_HOST_NUMBER = 254;

/**
 * Separate LANs on one machine, built from network namespaces, veth pairs and bridges, with
 * real multicast between the hosts of a LAN and none between LANs. Needs root and iproute2.
 * Everything is named after this process's pid, so `destroy()` (and a later lab, for a lab
 * whose process died) removes exactly what was made.
 */
export class NetLab {
  readonly #tag: string;
  readonly #lans: Lan[] = [];
  readonly #hosts: LabHost[] = [];
  readonly #children = new Set<ChildProcess>();
  readonly #firewallRules: string[][] = [];
  /** Releases of this machine's addresses on LANs (joinRoot), let go once the LANs are gone. */
  readonly #rootLocks: (() => Promise<void>)[] = [];
  #hostCount = 0;

  private constructor(tag: string) {
    this.#tag = tag;
  }

  /** Whether this machine can build labs (root, iproute2, network namespaces). */
  static async available(): Promise<boolean> {
    return process.getuid?.() === 0 && (await hasCommand('ip')) && (await tryRun('ip', ['netns', 'list'])) === null;
  }

  static async create(): Promise<NetLab> {
    await removeLabsOfDeadProcesses();
    raiseNeighbourLimits();
    return new NetLab(`${PREFIX}${process.pid.toString(36)}`);
  }

  get hosts(): readonly LabHost[] {
    return this.#hosts;
  }

  async addLan(): Promise<Lan> {
    const index = this.#lans.length + 1;
    const lan: Lan = { bridge: `${this.#tag}b${index}`, index };
    await run('ip', ['link', 'add', lan.bridge, 'type', 'bridge', 'mcast_snooping', '0']);
    this.#lans.push(lan);
    await run('ip', ['link', 'set', lan.bridge, 'up']);
    // Once dockerd has run, FORWARD drops bridged traffic (br_netfilter): let this bridge through.
    for (const tool of ['iptables', 'ip6tables']) {
      if (!(await hasCommand(tool))) continue;
      const rule = ['FORWARD', '-i', lan.bridge, '-o', lan.bridge, '-j', 'ACCEPT'];
      if ((await tryRun(tool, ['-I', ...rule])) === null) this.#firewallRules.push([tool, ...rule]);
    }
    return lan;
  }

  async addHost(lan: Lan): Promise<LabHost> {
    const n = ++this.#hostCount;
    if (n > 250) throw new RangeError('a lab holds at most 250 hosts');
    const netns = `${this.#tag}h${n}`;
    const eth0 = addressesOn(lan, n, 'eth0');
    const host: LabHost = { netns, lan, ipv4: eth0.ipv4, ipv6: eth0.ipv6, interfaces: [] };
    await run('ip', ['netns', 'add', netns]);
    this.#hosts.push(host);
    // Before eth0 exists, so that it is created without duplicate address detection's delay.
    await this.exec(host, 'sh', ['-c', 'echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad']);
    await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    await this.#plugIn(host, eth0, n);
    // Multicast leaves by the host's first LAN (a process may pick another interface).
    await run('ip', ['-n', netns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
    return host;
  }

  /**
   * Gives a host one more interface, on another LAN (a bridge's host, say), with the same
   * host number in that LAN's addresses.
   */
  async join(host: LabHost, lan: Lan): Promise<LabInterface> {
    if (host.interfaces.some((i) => i.lan === lan)) throw new RangeError(`${host.netns} is on that LAN already`);
    const n = Number(host.netns.slice(host.netns.lastIndexOf('h') + 1));
    const added = addressesOn(lan, n, `eth${host.interfaces.length}`);
    await this.#plugIn(host, added, n);
    return added;
  }

  /**
   * Gives this machine itself (the root namespace, where the test and its browser run) an
   * address on a LAN, host number 254 on the LAN's bridge: the hosts on that LAN reach the
   * test's own processes there, and no other host does (the lab's hosts never forward).
   * Labs of other processes that join this machine to a LAN of the same index (the same
   * addresses) wait for each other: `timeoutMs` at most, then RootAddressBusyError.
   */
  async joinRoot(lan: Lan, timeoutMs?: number): Promise<LabInterface> {
    const leg = addressesOn(lan, ROOT_HOST_NUMBER, lan.bridge);
    this.#rootLocks.push(await lockRootAddress(leg.ipv4, timeoutMs));
    if ((await run('ip', ['-o', 'addr', 'show', 'to', leg.ipv4])).trim() !== '') {
      throw new RangeError(`${leg.ipv4} is in use on this machine already (by this lab, or not by a lab)`);
    }
    await run('ip', ['addr', 'add', `${leg.ipv4}/24`, 'dev', lan.bridge]);
    await run('ip', ['-6', 'addr', 'add', `${leg.ipv6}/64`, 'dev', lan.bridge, 'nodad']);
    return leg;
  }

  /** Takes one of a host's interfaces down (a cut cable) or up again. */
  async setLink(host: LabHost, interfaceName: string, up: boolean): Promise<void> {
    await run('ip', ['-n', host.netns, 'link', 'set', interfaceName, up ? 'up' : 'down']);
  }

  async #plugIn(host: LabHost, added: LabInterface, n: number): Promise<void> {
    const hostSide = `${this.#tag}v${n}${added.name === 'eth0' ? '' : `i${added.name.slice(3)}`}`;
    const { netns } = host;
    await run('ip', ['link', 'add', hostSide, 'type', 'veth', 'peer', 'name', added.name, 'netns', netns]);
    host.interfaces.push(added);
    await run('ip', ['link', 'set', hostSide, 'master', added.lan.bridge, 'up']);
    await run('ip', ['-n', netns, 'addr', 'add', `${added.ipv4}/24`, 'dev', added.name]);
    await run('ip', ['-n', netns, '-6', 'addr', 'add', `${added.ipv6}/64`, 'dev', added.name, 'nodad']);
    await run('ip', ['-n', netns, 'link', 'set', added.name, 'up']);
  }

  /** Runs a command in a host and returns its stdout. */
  exec(host: LabHost, command: string, args: readonly string[]): Promise<string> {
    return run('ip', ['netns', 'exec', host.netns, command, ...args]);
  }

  /** Starts a long-running process in a host; the lab kills it on destroy if it still runs. */
  spawn(host: LabHost, command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', host.netns, command, ...args], options);
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    return child;
  }

  /** Kills what it started, then removes namespaces, bridges and firewall rules. */
  async destroy(): Promise<void> {
    await Promise.all(
      [...this.#children].map(async (child) => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = once(child, 'exit');
          child.kill('SIGKILL');
          await exited;
        }
      }),
    );
    for (const host of this.#hosts.splice(0)) await tryRun('ip', ['netns', 'del', host.netns]);
    for (const lan of this.#lans.splice(0)) await tryRun('ip', ['link', 'del', lan.bridge]);
    for (const [tool, ...rule] of this.#firewallRules.splice(0)) await tryRun(tool as string, ['-D', ...rule]);
    for (const release of this.#rootLocks.splice(0)) await release();
    if (!(await otherLabsRunning(this.#tag))) restoreNeighbourLimits();
  }
}

function addressesOn(lan: Lan, n: number, name: string): LabInterface {
  return { name, lan, ipv4: `10.${200 + lan.index}.0.${n}`, ipv6: `fd70:${lan.index}::${n.toString(16)}` };
}

async function labNamespaces(): Promise<string[]> {
  return (await run('ip', ['netns', 'list'])).split('\n').map((line) => line.split(' ')[0] ?? '');
}

async function otherLabsRunning(ownTag: string): Promise<boolean> {
  return (await labNamespaces()).some((name) => name.startsWith(PREFIX) && !name.startsWith(`${ownTag}h`));
}

/** Namespaces and bridges left by labs whose process is gone (killed before destroy()). */
async function removeLabsOfDeadProcesses(): Promise<void> {
  const alive = (tag: string) => {
    try {
      process.kill(Number.parseInt(tag, 36), 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const name of await labNamespaces()) {
    const match = new RegExp(`^${PREFIX}([0-9a-z]+)h\\d+$`).exec(name);
    if (match?.[1] && !alive(match[1])) await tryRun('ip', ['netns', 'del', name]);
  }
  const links = (await run('ip', ['-o', 'link', 'show', 'type', 'bridge'])).split('\n');
  for (const line of links) {
    const match = new RegExp(`^\\d+: (${PREFIX}([0-9a-z]+)b\\d+)`).exec(line);
    if (match?.[1] && match[2] && !alive(match[2])) await tryRun('ip', ['link', 'del', match[1]]);
  }
}
