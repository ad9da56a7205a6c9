import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { mkdir, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { backoffDelay } from '@p2p-messenger/discovery';
import { type Logger, pino } from 'pino';
import type { PeerConsulSettings } from '../catalog/consul/peer-registration.js';
import { InstanceTable } from './instance-table.js';
import { trySetNiceness } from './niceness.js';
import {
  type Orchestrator,
  type OrchestratorEvents,
  type PeerInstance,
  type PeerSpec,
  PeerStartError,
} from './orchestrator.js';
import { type SpawnedChild, Spawner } from './spawner.js';

/** What every peer of this dispatcher is told at start. */
export interface PeerSettings {
  /** The dispatcher's ticket key (public, PEM file): its users' tickets open the peer's web server. */
  dispatcherKeyFile?: string;
  /** The dispatcher's catalog, which the peer uses as its directory. */
  catalogUrl?: string;
  catalogToken?: string;
  /** The Consul agent the peer registers in (on loopback, as it listens) and finds the pool's peers through. */
  consul?: PeerConsulSettings;
}

export interface LocalProcessOptions {
  /** Each instance gets `<dataRoot>/<instanceId>`. */
  dataRoot: string;
  /** Read at every start (the catalog's URL may be known only once the dispatcher listens). */
  peerSettings?: PeerSettings | (() => PeerSettings);
  /** The peer command; default: this Node running the built `peer` CLI. */
  command?: readonly string[];
  startTimeoutMs?: number;
  log?: Logger;
}

interface Running {
  instance: PeerInstance;
  child: SpawnedChild;
  stopping: boolean;
  timer: NodeJS.Timeout | null;
}

/** The daemon's ready line (the fields the dispatcher uses). */
interface ReadyLine {
  id: string;
  fingerprint: string;
  greetingPort: number;
  securePort: number;
  webPort?: number;
}

const STOP_GRACE_MS = 5_000;
const RESTART_BACKOFF = { minDelayMs: 200, maxDelayMs: 10_000 };
const INSTANCE_ID = /^p-[0-9a-f]{12}$/;
const STARTING_NICENESS = 10;

/**
 * This Node running the built `peer` command. A small young generation (1 MB semi-spaces,
 * not V8's 16 MB): the nursery grows during start-up and is never given back, which is
 * about 10 MB of every idle peer, when many peers share one machine.
 */
function defaultCommand(): string[] {
  const peerEntry = createRequire(import.meta.url).resolve('@p2p-messenger/peer');
  return [process.execPath, '--max-semi-space-size=1', join(dirname(peerEntry), 'cli', 'main.js')];
}

function consulArgs(consul: PeerConsulSettings): string[] {
  return [
    ...['--consul', consul.agent, '--consul-service', consul.serviceName, '--advertise', '127.0.0.1'],
    ...['--consul-visible-keys', consul.visibleKeys],
    ...consul.tags.flatMap((tag) => ['--consul-tag', tag]),
  ];
}

/**
 * Peers as processes on this machine (started by the dispatcher's spawner process, so that
 * no fork holds its event loop), on loopback, one data dir each. An instance
 * that dies is started again (with backoff) from the same data dir: same identity, same
 * history; so is an instance started again by id after the dispatcher restarted.
 */
export class LocalProcessOrchestrator extends EventEmitter<OrchestratorEvents> implements Orchestrator {
  readonly #options: LocalProcessOptions;
  readonly #command: readonly string[];
  readonly #log: Logger;
  readonly #running = new InstanceTable<Running>();
  /** Children not ready yet: a close stops them too, rather than waiting for them. */
  readonly #launching = new Set<SpawnedChild>();
  readonly #spawner = new Spawner();
  #closed = false;

  constructor(options: LocalProcessOptions) {
    super();
    this.#options = options;
    this.#command = options.command ?? defaultCommand();
    this.#log = (options.log ?? pino({ level: 'silent' })).child({ component: 'orchestrator' });
  }

  /** Nothing to take over: the peers of an earlier dispatcher ended with it. */
  async resume(): Promise<void> {}

  async start(spec: PeerSpec): Promise<PeerInstance> {
    if (this.#closed) throw new PeerStartError('the orchestrator is closing');
    const instanceId = spec.instanceId ?? `p-${randomBytes(6).toString('hex')}`;
    const already = this.#running.get(instanceId);
    if (already) return { ...already.instance };
    const dataDir = join(this.#options.dataRoot, instanceId);
    if (spec.instanceId) {
      if (!INSTANCE_ID.test(spec.instanceId)) throw new PeerStartError(`${spec.instanceId} is not an instance id`);
      const found = await stat(dataDir).catch(() => null);
      if (!found?.isDirectory())
        throw new PeerStartError(`instance ${instanceId} has no data dir (${dataDir}) any more`);
    } else {
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
    }
    const { child, ready } = await this.#launch(spec.name, dataDir);
    const instance: PeerInstance = {
      instanceId,
      peerId: ready.id,
      name: spec.name,
      fingerprint: ready.fingerprint,
      address: '127.0.0.1',
      greetingPort: ready.greetingPort,
      securePort: ready.securePort,
      webPort: ready.webPort ?? 0,
      state: 'running',
      restarts: 0,
      startedAtMs: Date.now(),
    };
    const running: Running = { instance, child, stopping: false, timer: null };
    this.#running.set(instanceId, running);
    this.#watch(running, dataDir);
    this.#log.info({ instanceId, peerId: ready.id, pid: child.pid }, 'peer started');
    return { ...instance };
  }

  async stop(instanceId: string, options: { deleteData?: boolean } = {}): Promise<void> {
    await this.#stop(instanceId);
    if (options.deleteData && INSTANCE_ID.test(instanceId)) {
      await rm(join(this.#options.dataRoot, instanceId), { recursive: true, force: true });
    }
  }

  async #stop(instanceId: string): Promise<void> {
    const running = this.#running.get(instanceId);
    if (!running) return;
    running.stopping = true;
    if (running.timer) clearTimeout(running.timer);
    this.#running.delete(instanceId);
    const { child } = running;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    running.instance.state = 'stopped';
  }

  inspect(instanceId: string): PeerInstance | null {
    return this.#running.inspect(instanceId);
  }

  list(): PeerInstance[] {
    return this.#running.instances();
  }

  /** Stops every instance, and any still starting. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const child of this.#launching) child.kill('SIGTERM');
    await Promise.all([...this.#running.keys()].map((id) => this.stop(id)));
    this.#spawner.close();
  }

  /** Restarts the instance whenever it dies without being asked to stop. */
  #watch(running: Running, dataDir: string): void {
    running.child.once('exit', (code) => {
      if (running.stopping) return;
      running.instance.state = 'restarting';
      this.#log.warn({ instanceId: running.instance.instanceId, code }, 'peer died; restarting');
      this.emit('died', { ...running.instance }, code);
      const relaunch = async (attempt: number): Promise<void> => {
        if (running.stopping) return;
        try {
          const { child, ready } = await this.#launch(running.instance.name, dataDir);
          if (running.stopping) {
            child.kill('SIGKILL');
            return;
          }
          running.child = child;
          // Ports are picked afresh at every start.
          Object.assign(running.instance, {
            greetingPort: ready.greetingPort,
            securePort: ready.securePort,
            webPort: ready.webPort ?? 0,
            state: 'running',
            restarts: running.instance.restarts + 1,
          });
          this.#watch(running, dataDir);
          this.emit('restarted', { ...running.instance });
        } catch (err) {
          this.#log.error({ err, instanceId: running.instance.instanceId }, 'restart failed; trying again');
          running.timer = setTimeout(() => void relaunch(attempt + 1), backoffDelay(attempt, RESTART_BACKOFF));
        }
      };
      running.timer = setTimeout(() => void relaunch(1), backoffDelay(0, RESTART_BACKOFF));
    });
  }

  #settings(): PeerSettings {
    const settings = this.#options.peerSettings ?? {};
    return typeof settings === 'function' ? settings() : settings;
  }

  #args(name: string, dataDir: string): string[] {
    const settings = this.#settings();
    return [
      ...['--name', name, '--data-dir', dataDir, '--log-file', join(dataDir, 'peer.log')],
      ...['--listen', '127.0.0.1', '--greeting-port', '0', '--secure-port', '0', '--web-port', '0'],
      ...(settings.dispatcherKeyFile ? ['--dispatcher-key', settings.dispatcherKeyFile] : []),
      ...(settings.catalogUrl ? ['--catalog', settings.catalogUrl] : []),
      ...(settings.consul ? consulArgs(settings.consul) : []),
      '--no-interactive',
      '--no-multicast',
      '--exit-with-parent',
    ];
  }

  async #launch(name: string, dataDir: string): Promise<{ child: SpawnedChild; ready: ReadyLine }> {
    const [command, ...base] = this.#command as [string, ...string[]];
    const token = this.#settings().catalogToken;
    // The token goes in the environment: arguments are visible to every user of the machine.
    const env = token ? { ...process.env, P2PM_CATALOG_TOKEN: token } : process.env;
    // A start is CPU-heavy and nobody waits on it most of the time (the pool refilling):
    // behind the dispatcher's own work, so log-ins stay quick meanwhile. Back to normal once ready.
    const child = this.#spawner.spawn(command, [...base, ...this.#args(name, dataDir)], env, STARTING_NICENESS);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4_000);
    });
    const lines = createInterface({ input: child.stdout });
    this.#launching.add(child);
    try {
      const ready = await new Promise<ReadyLine>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new PeerStartError(`peer ${name} did not start in time`)),
          this.#options.startTimeoutMs ?? 20_000,
        );
        lines.once('line', (line) => {
          clearTimeout(timer);
          try {
            resolve(JSON.parse(line));
          } catch {
            reject(new PeerStartError(`peer ${name} printed ${JSON.stringify(line)} instead of its ready line`));
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new PeerStartError(`peer ${name} exited with ${code} before it was ready: ${stderr.trim()}`));
        });
      });
      trySetNiceness(child.pid, 0);
      return { child, ready };
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    } finally {
      this.#launching.delete(child);
      lines.close();
      // Anything it prints later is not read: keep the pipe drained.
      child.stdout.resume();
    }
  }
}
