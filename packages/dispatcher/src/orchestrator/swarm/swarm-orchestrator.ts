import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { type Logger, pino } from 'pino';
import type { PeerConsulSettings } from '../../catalog/consul/peer-registration.js';
import { InstanceTable } from '../instance-table.js';
import type { Orchestrator, OrchestratorEvents, PeerInstance, PeerSpec } from '../orchestrator.js';
import { ComebackWatch } from './comeback-watch.js';
import { DockerEvents, type EngineEvent } from './docker-events.js';
import { checkImage, swarmNetworkId, volumeExists } from './engine-checks.js';
import { ensureSwarmObject } from './secrets.js';
import { ServiceLabeller } from './service-labeller.js';
import {
  LABELS,
  PEER_PORTS,
  type PeerServiceSettings,
  peerServiceSpec,
  serviceName,
  volumeName,
} from './service-spec.js';
import { StartSlots } from './start-slots.js';
import { SwarmError, swarmErrorOf } from './swarm-errors.js';
import { TaskWatch } from './task-watch.js';

/** What every peer service of this dispatcher is given. */
export interface SwarmPeerSettings {
  /** The dispatcher's ticket key (public, PEM): becomes a Docker config. */
  ticketPublicKeyPem?: string;
  /** The dispatcher's catalog, as peers on the overlay network reach it. */
  catalogUrl?: string;
  /** Becomes a Docker secret. */
  catalogToken?: string;
  /** The Consul agent as peer containers reach it (e.g. consul:8500), to register in and find peers through. */
  consul?: PeerConsulSettings;
  /** The dispatcher's page, where a peer on a host of its own sends its owner after logging out. */
  dispatcherUrl?: string;
}

export interface SwarmOrchestratorOptions {
  /** The engine (a Swarm manager); default: the local socket (or DOCKER_HOST). */
  docker?: Docker;
  image: string;
  /** The attachable overlay network, by name. */
  network: string;
  /** This dispatcher's pool: its services are labelled with it, others are never touched. */
  pool: string;
  /** Swarm placement constraints of peer services, e.g. `node.role==worker`. */
  placement?: string[];
  /** Per peer; default one core and 256 MiB. */
  cpus?: number;
  memoryBytes?: number;
  peerSettings?: () => SwarmPeerSettings;
  /** From service creation to a healthy peer. */
  startTimeoutMs?: number;
  /** How long a task may wait for a node before the start fails with Swarm's reason. */
  pendingTimeoutMs?: number;
  maxConcurrentStarts?: number;
  log?: Logger;
}

interface Running {
  instance: PeerInstance;
  serviceId: string;
  stopping: boolean;
  /** The owner its service is labelled with, once claimed. */
  owner?: string;
}

const INSTANCE_ID = /^p-[0-9a-f]{12}$/;

/**
 * Peers as Docker Swarm services, one per peer, through the Engine API: a named volume each
 * (identity and history outlive containers), restarts by Swarm, state from the engine's
 * event stream. Services outlive the dispatcher: `resume` adopts those of this pool after a
 * restart, and `close` leaves them running.
 */
export class SwarmOrchestrator extends EventEmitter<OrchestratorEvents> implements Orchestrator {
  readonly #options: SwarmOrchestratorOptions;
  readonly #docker: Docker;
  readonly #log: Logger;
  readonly #running = new InstanceTable<Running>();
  readonly #events: DockerEvents;
  readonly #comebacks: ComebackWatch;
  readonly #labels: ServiceLabeller;
  readonly #slots: StartSlots;
  #checked: Promise<string> | null = null;
  #closed = false;

  constructor(options: SwarmOrchestratorOptions) {
    super();
    this.#options = options;
    this.#docker = options.docker ?? new Docker();
    this.#log = (options.log ?? pino({ level: 'silent' })).child({ component: 'orchestrator' });
    this.#events = new DockerEvents(
      this.#docker,
      { labels: { [LABELS.pool]: options.pool }, actions: ['start', 'die'] },
      this.#log,
    );
    this.#comebacks = new ComebackWatch(this.#docker, this.#log);
    this.#labels = ServiceLabeller.onEngine(this.#docker, this.#log);
    this.#slots = new StartSlots(options.maxConcurrentStarts ?? 4);
    this.#events.on('event', (event) => this.#onEvent(event));
  }

  /** Adopts the peer services of this pool that outlived a previous dispatcher. */
  async resume(): Promise<void> {
    await this.#ready();
    const services = await this.#docker.listServices({
      filters: { label: [`${LABELS.pool}=${this.#options.pool}`, `${LABELS.role}=peer`] },
    });
    await Promise.all(
      services.map(async (service) => {
        const labels = service.Spec?.Labels ?? {};
        const instanceId = labels[LABELS.instanceId];
        if (!instanceId || this.#running.has(instanceId)) return;
        try {
          await this.#adopt(instanceId, labels[LABELS.name] ?? instanceId, service.ID);
          const owner = labels[LABELS.owner];
          const running = this.#running.get(instanceId);
          if (running && owner) running.owner = owner;
        } catch (err) {
          this.#log.warn({ err, instanceId }, 'a peer service of this pool does not answer; left for reconciling');
        }
      }),
    );
  }

  /**
   * Whether this can work at all: the engine answers, is a Swarm manager, and has the network.
   * Rejects with the typed error that says what to do (a dispatcher checks before it opens).
   */
  async check(): Promise<void> {
    await this.#ready();
  }

  async start(spec: PeerSpec): Promise<PeerInstance> {
    if (this.#closed) throw new SwarmError('the orchestrator is closing');
    const networkId = await this.#ready();
    const instanceId = spec.instanceId ?? `p-${randomBytes(6).toString('hex')}`;
    if (!INSTANCE_ID.test(instanceId)) throw new SwarmError(`${instanceId} is not an instance id`);
    const already = this.#running.get(instanceId);
    if (already) return { ...already.instance };
    await this.#slots.take();
    try {
      // An engine gone since the check answers no more: said as such, not as a socket error.
      const existing = await this.#serviceOf(instanceId).catch((err: unknown) => {
        throw swarmErrorOf(err, `starting ${spec.name}`);
      });
      if (existing) return await this.#adopt(instanceId, spec.name, existing);
      if (spec.instanceId && !(await volumeExists(this.#docker, instanceId))) {
        throw new SwarmError(`instance ${instanceId} has no volume (${volumeName(instanceId)}) any more`);
      }
      await checkImage(this.#docker, this.#options.image);
      const created = await this.#docker
        .createService(peerServiceSpec(await this.#serviceSettings(networkId), instanceId, spec.name))
        .catch((err: unknown) => {
          throw swarmErrorOf(err, `creating the service of ${spec.name}`);
        });
      this.#log.info({ instanceId, serviceId: created.id }, 'peer service created');
      try {
        return await this.#adopt(instanceId, spec.name, created.id);
      } catch (err) {
        // A service that never became a peer is not left behind (its volume stays for a retry).
        await this.#docker
          .getService(created.id)
          .remove()
          .catch(() => {});
        this.#running.delete(instanceId);
        throw err;
      }
    } finally {
      this.#slots.release();
    }
  }

  async stop(instanceId: string, options: { deleteData?: boolean } = {}): Promise<void> {
    const running = this.#running.get(instanceId);
    if (running) running.stopping = true;
    this.#running.delete(instanceId);
    this.#comebacks.cancel(instanceId);
    const serviceId = running?.serviceId ?? (await this.#serviceOf(instanceId));
    if (serviceId) {
      await this.#docker
        .getService(serviceId)
        .remove()
        .catch((err: { statusCode?: number }) => {
          if (err.statusCode !== 404) throw swarmErrorOf(err, `removing the service of ${instanceId}`);
        });
      await new TaskWatch(this.#docker, serviceId).untilNoContainers(instanceId);
    }
    if (options.deleteData && INSTANCE_ID.test(instanceId)) await this.#removeVolume(instanceId);
    if (running) running.instance.state = 'stopped';
    this.#log.info({ instanceId, deleteData: options.deleteData === true }, 'peer service removed');
  }

  inspect(instanceId: string): PeerInstance | null {
    return this.#running.inspect(instanceId);
  }

  list(): PeerInstance[] {
    return this.#running.instances();
  }

  /** Stops watching. The services go on running: the next dispatcher adopts them. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#events.stop();
    this.#comebacks.stop();
    this.#slots.wakeAll();
    await this.#labels.settled();
  }

  /** Waits until the service's peer has said who it is (it then answers); keeps it as running. */
  async #adopt(instanceId: string, name: string, serviceId: string): Promise<PeerInstance> {
    const watch = new TaskWatch(this.#docker, serviceId, {
      startTimeoutMs: this.#options.startTimeoutMs ?? 60_000,
      pendingTimeoutMs: this.#options.pendingTimeoutMs ?? 20_000,
    });
    const ready = await watch.untilReady(name);
    const instance: PeerInstance = {
      instanceId,
      peerId: ready.id,
      name,
      fingerprint: ready.fingerprint,
      address: serviceName(instanceId),
      greetingPort: PEER_PORTS.greeting,
      securePort: PEER_PORTS.secure,
      webPort: PEER_PORTS.web,
      state: 'running',
      restarts: 0,
      startedAtMs: Date.now(),
    };
    this.#running.set(instanceId, { instance, serviceId, stopping: false });
    this.#log.info({ instanceId, peerId: ready.id }, 'peer started');
    // Which peer the service runs, where an operator looks (`docker service ls --filter label=…peer-id=`).
    this.#labels.add(serviceId, { [LABELS.peerId]: ready.id });
    return { ...instance };
  }

  /** Labels the service with its owner once claimed, for operators (`docker service ls --filter label=…owner=`). */
  setOwner(instanceId: string, owner: string): void {
    const running = this.#running.get(instanceId);
    if (!running || running.stopping || running.owner === owner) return;
    running.owner = owner;
    this.#labels.add(running.serviceId, { [LABELS.owner]: owner });
  }

  /** A container of one of ours died (Swarm starts another), or the one Swarm started instead is up. */
  #onEvent(event: EngineEvent): void {
    const running = this.#running.get(event.labels[LABELS.instanceId] ?? '');
    if (!running || running.stopping) return;
    const { instance } = running;
    if (event.action === 'die') this.#comebacks.cancel(instance.instanceId);
    if (event.action === 'die' && instance.state === 'running') {
      instance.state = 'restarting';
      this.#log.warn({ instanceId: instance.instanceId, exitCode: event.exitCode }, 'peer died; Swarm restarts it');
      this.emit('died', { ...instance }, event.exitCode);
    } else if (event.action === 'start' && instance.state === 'restarting') {
      this.#comebacks.follow(instance.instanceId, event.containerId, () => {
        if (running.stopping || instance.state !== 'restarting') return;
        instance.state = 'running';
        instance.restarts++;
        this.emit('restarted', { ...instance });
      });
    }
  }

  /** Once: the engine answers, is a Swarm manager, and has the network. Resolves with the network's id. */
  #ready(): Promise<string> {
    this.#checked ??= swarmNetworkId(this.#docker, this.#options.network).then((networkId) => {
      this.#events.start();
      return networkId;
    });
    // A failed check is tried again at the next call (Docker may have been started meanwhile).
    this.#checked.catch(() => {
      this.#checked = null;
    });
    return this.#checked;
  }

  async #serviceSettings(networkId: string): Promise<PeerServiceSettings> {
    const given = this.#options.peerSettings?.() ?? {};
    const { pool } = this.#options;
    return {
      image: this.#options.image,
      networkId,
      pool,
      // A whole core: an idle peer uses next to none, but its start (loading Node and its
      // modules, about 0.8 s of CPU) takes twice as long under a limit of half a core.
      cpus: this.#options.cpus ?? 1,
      memoryBytes: this.#options.memoryBytes ?? 256 * 1024 * 1024,
      placement: this.#options.placement ?? [],
      ...(given.catalogUrl ? { catalogUrl: given.catalogUrl } : {}),
      ...(given.consul ? { consul: given.consul } : {}),
      ...(given.dispatcherUrl ? { dispatcherUrl: given.dispatcherUrl } : {}),
      ...(given.ticketPublicKeyPem
        ? { ticketKey: await ensureSwarmObject(this.#docker, 'config', pool, 'ticket-key', given.ticketPublicKeyPem) }
        : {}),
      ...(given.catalogToken
        ? { catalogToken: await ensureSwarmObject(this.#docker, 'secret', pool, 'catalog-token', given.catalogToken) }
        : {}),
    };
  }

  /**
   * The volume is in use (409) until the last container of the removed service is gone, which
   * a busy engine may take longer for than the wait for its containers: tried again meanwhile.
   */
  async #removeVolume(instanceId: string): Promise<void> {
    const until = Date.now() + 60_000;
    for (;;) {
      try {
        await this.#docker.getVolume(volumeName(instanceId)).remove();
        return;
      } catch (err) {
        const status = (err as { statusCode?: number }).statusCode;
        if (status === 404) return;
        if (status !== 409 || Date.now() > until) throw swarmErrorOf(err, `removing the volume of ${instanceId}`);
        await sleep(500);
      }
    }
  }

  async #serviceOf(instanceId: string): Promise<string | null> {
    const [service] = await this.#docker.listServices({
      filters: { label: [`${LABELS.pool}=${this.#options.pool}`, `${LABELS.instanceId}=${instanceId}`] },
    });
    return service?.ID ?? null;
  }
}
