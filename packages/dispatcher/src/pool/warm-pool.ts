import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Logger, pino } from 'pino';
import type { Catalog, CatalogPeer } from '../catalog/catalog.js';
import type { Orchestrator, PeerInstance } from '../orchestrator/orchestrator.js';
import type { Router } from '../router/router.js';
import { type StartFailure, StartFailures } from './start-failures.js';

export type { StartFailure } from './start-failures.js';

export interface WarmPoolOptions {
  orchestrator: Orchestrator;
  catalog: Catalog;
  /** Vacant, healthy peers to keep ready. */
  target: number;
  /** Peers started at once while refilling. */
  maxConcurrentStarts?: number;
  reconcileIntervalMs?: number;
  /**
   * Makes each peer reachable for its owner before the catalog lists it as healthy (and so
   * before any ticket is handed out for it), and unreachable once it leaves the catalog.
   */
  router?: Pick<Router, 'route' | 'unroute'>;
  /** Whether a running peer answers (e.g. its web server's /healthz); default: always. */
  probe?: (peer: ProbeTarget) => Promise<boolean>;
  /** How long a new or restarted peer may take to answer the probe before it is listed anyway (unhealthy then). */
  answerTimeoutMs?: number;
  /** Failed probes in a row before a peer counts as unhealthy. */
  unhealthyAfter?: number;
  /**
   * After a failed start, how long the pool starts no other (default 1 s), doubling with each
   * failure in a row for a reason that lasts (up to 30 s): starting again at once would hammer
   * the engine with starts that fail the same way.
   */
  retryAfterFailureMs?: number;
  log?: Logger;
}

/** Where a probe reaches a peer's web server. */
export type ProbeTarget = Pick<CatalogPeer, 'address' | 'webPort'>;

export interface PoolStats {
  target: number;
  vacant: number;
  claimed: number;
  starting: number;
  /** Users waiting for a peer to start for them. */
  waiting: number;
}

interface WarmPoolEvents {
  /** A new peer is registered as vacant, `startMs` after its start was asked for. */
  ready: [instance: PeerInstance, startMs: number];
  /** A peer is (again) where the catalog says: new, resumed after a restart, or restarted. */
  placed: [peer: CatalogPeer];
  /** A peer left the catalog for good (released or removed). */
  retired: [peerId: string];
  /** A start failed (the pool tries again at the next fill). */
  failed: [error: Error];
  /** A start failed and none is under way: no peer is coming for those who wait for one. */
  stalled: [failure: StartFailure];
}

/**
 * Keeps `target` vacant, healthy peers ready for users who log in (plus one for each user
 * waiting): refills in the background, a few starts at a time, and reconciles what the
 * orchestrator runs with what the catalog lists: vacant entries without an instance go (a
 * user's stays, marked unhealthy), instances the catalog does not know are stopped, vacant
 * peers that stop answering are replaced. At start it first brings back every peer the
 * catalog lists (same data, so the same identity and history).
 */
export class WarmPool extends EventEmitter<WarmPoolEvents> {
  readonly #options: WarmPoolOptions;
  readonly #log: Logger;
  readonly #waiting = new Set<string>();
  readonly #failedProbes = new Map<string, number>();
  #starting = 0;
  /** Vacant peers of the catalog still coming back after a start: they count as vacant for refills. */
  #resumingVacant = 0;
  #timer: NodeJS.Timeout | null = null;
  #running = false;
  #ready: Promise<void> | null = null;
  #resumed = false;
  #filling: Promise<void> | null = null;
  #seq = 0;
  #refillTimer: NodeJS.Timeout | null = null;
  readonly #failures: StartFailures;
  #retryTimer: NodeJS.Timeout | null = null;
  /** Back after dying: placed again; if that fails (its route, say), it stays unhealthy, and the log says why. */
  readonly #onRestarted = (instance: PeerInstance) =>
    void this.#place(instance).catch((err: unknown) =>
      this.#log.error({ err, peerId: instance.peerId }, 'a peer that came back could not be placed'),
    );
  /** Down until it is back: no ticket is handed out for it meanwhile (its owner waits on the progress page). */
  readonly #onDied = (instance: PeerInstance) =>
    void this.#options.catalog
      .setHealthy(instance.peerId, false)
      .catch((err: unknown) => this.#log.error({ err, peerId: instance.peerId }, 'could not mark a dead peer'));

  constructor(options: WarmPoolOptions) {
    super();
    this.#options = options;
    this.#log = (options.log ?? pino({ level: 'silent' })).child({ component: 'pool' });
    this.#failures = new StartFailures(options.retryAfterFailureMs ?? 1_000);
  }

  /** Resolves once the peers of the catalog are back (or known lost); the pool then refills. */
  start(): Promise<void> {
    if (this.#ready) return this.#ready;
    this.#running = true;
    this.#options.orchestrator.on('restarted', this.#onRestarted);
    this.#options.orchestrator.on('died', this.#onDied);
    this.#ready = this.#resume().then(() => {
      this.#resumed = true;
      this.#tick();
    });
    return this.#ready;
  }

  /**
   * Stops refilling and reconciling. Starts under way are not waited for here (closing the
   * orchestrator ends them); `settled` resolves once they are over.
   */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#options.orchestrator.off('restarted', this.#onRestarted);
    this.#options.orchestrator.off('died', this.#onDied);
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#refillTimer) clearTimeout(this.#refillTimer);
    this.#refillTimer = null;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  /** Resolves when no start or resume of this pool is under way. */
  async settled(): Promise<void> {
    await this.#ready;
    await this.#filling;
    this.#ready = null;
    this.#resumed = false;
  }

  /** Whether the peers of the catalog are back after a start (users' peers can be reached). */
  get resumed(): boolean {
    return this.#resumed;
  }

  async stats(): Promise<PoolStats> {
    const peers = await this.#options.catalog.list();
    return {
      target: this.#options.target,
      vacant: peers.filter((p) => p.state === 'vacant' && p.healthy).length,
      claimed: peers.filter((p) => p.state === 'claimed').length,
      starting: this.#starting,
      waiting: this.#waiting.size,
    };
  }

  get target(): number {
    return this.#options.target;
  }

  /**
   * Why peers cannot be started now, or null: the last start did not fail for a reason that
   * lasts (PeerStartError's `lasting`: no engine, no image; a slow start is no such reason), or
   * one is under way.
   */
  get startFailure(): StartFailure | null {
    return this.#failures.current(this.#starting);
  }

  set target(target: number) {
    this.#options.target = target;
    void this.fill();
  }

  /** A user waits for a peer: one more is started for them (beyond the target). */
  want(userId: string): void {
    this.#waiting.add(userId);
    void this.fill();
  }

  /** The user got a peer, or stopped waiting. */
  unwant(userId: string): void {
    this.#waiting.delete(userId);
  }

  /**
   * Takes a peer out of service: out of the catalog (its owner gets a new one next time) and
   * stopped; its data kept on disk, or deleted. False if the catalog does not list it.
   */
  async retire(peerId: string, options: { keepData: boolean }): Promise<boolean> {
    const { catalog, orchestrator } = this.#options;
    const peer = await catalog.get(peerId);
    if (!peer) return false;
    await this.#drop(peerId);
    const instance = orchestrator.list().find((i) => i.peerId === peerId);
    await orchestrator.stop(instance?.instanceId ?? peer.instanceId, { deleteData: !options.keepData });
    void this.fill();
    return true;
  }

  /** A peer went to its owner: the orchestrator marks it (labels in a Swarm). */
  owned(peer: Pick<CatalogPeer, 'instanceId' | 'owner'>): void {
    if (peer.owner) this.#options.orchestrator.setOwner?.(peer.instanceId, peer.owner);
  }

  /**
   * A peer was just handed out: refill shortly, not at once, so that starting a peer (a
   * spawn, then a CPU-heavy start) does not land in the middle of a burst of log-ins.
   */
  refillSoon(delayMs = 250): void {
    if (!this.#running || this.#refillTimer) return;
    this.#refillTimer = setTimeout(() => {
      this.#refillTimer = null;
      void this.fill();
    }, delayMs);
  }

  /** Starts peers until target + waiting are vacant (counting those already starting). */
  fill(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    this.#filling ??= this.#fill().finally(() => {
      this.#filling = null;
    });
    return this.#filling;
  }

  async #fill(): Promise<void> {
    const limit = this.#options.maxConcurrentStarts ?? 2;
    const starts: Promise<void>[] = [];
    for (;;) {
      const { vacant } = await this.stats();
      const missing = this.#options.target + this.#waiting.size - vacant - this.#resumingVacant - this.#starting;
      if (!this.#running || missing <= 0 || this.#starting >= limit || this.#failures.holdingBack()) break;
      starts.push(this.#startOne());
    }
    // Whenever one start ends, look again: the others need not be waited for.
    if (starts.length > 0) {
      await Promise.race(starts);
      if (this.#running) await this.#fill();
      await Promise.all(starts);
    }
  }

  /** A fill once the pause is over (the refill would otherwise wait for the next round of upkeep). */
  #retryAfter(pauseMs: number): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      void this.fill();
    }, pauseMs);
  }

  async #startOne(): Promise<void> {
    this.#starting++;
    const begun = performance.now();
    let failed: Error | null = null;
    try {
      const instance = await this.#options.orchestrator.start({
        name: `peer-${Date.now().toString(36)}-${++this.#seq}`,
      });
      if (!this.#running) {
        await this.#options.orchestrator.stop(instance.instanceId);
        return;
      }
      const failedBefore = this.#failures.succeeded();
      if (failedBefore > 0) this.#log.info({ peerId: instance.peerId, failedBefore }, 'peers start again');
      await this.#place(instance);
      this.#log.info({ peerId: instance.peerId }, 'vacant peer ready');
      this.emit('ready', instance, performance.now() - begun);
    } catch (err) {
      if (!this.#running) return;
      failed = err as Error;
      const { inRow, retryInMs, newlyLasting } = this.#failures.failed(failed);
      this.#log.warn({ err, inRow, retryInMs }, 'could not start a pool peer');
      // A reason that lasts is the operator's business: said once, as an error.
      if (newlyLasting) this.#log.error({ err }, 'peers cannot be started');
      this.#retryAfter(retryInMs);
      this.emit('failed', failed);
    } finally {
      this.#starting--;
      const failure = failed && this.startFailure;
      if (failure) this.emit('stalled', failure);
    }
  }

  /**
   * Once the instance answers where it now listens (as its owner's requests will reach it:
   * a new Swarm service's name can take a moment to resolve), routes to it, then records it
   * (healthy) in the catalog.
   */
  async #place(instance: PeerInstance): Promise<void> {
    const { catalog, router } = this.#options;
    await this.#untilAnswers(instance);
    await router?.route(instance.peerId, { host: instance.address, port: instance.webPort });
    await catalog.register({
      id: instance.peerId,
      instanceId: instance.instanceId,
      name: instance.name,
      address: instance.address,
      greetingPort: instance.greetingPort,
      securePort: instance.securePort,
      webPort: instance.webPort,
      fingerprint: instance.fingerprint,
    });
    const placed = await catalog.get(instance.peerId);
    if (placed) this.emit('placed', placed);
  }

  /** Out of the catalog and of the router, for good. */
  async #drop(peerId: string): Promise<void> {
    await this.#options.catalog.remove(peerId);
    await this.#options.router?.unroute(peerId);
    this.emit('retired', peerId);
  }

  /** Starts again every peer the catalog lists (after a restart of the dispatcher), a few at a time. */
  async #resume(): Promise<void> {
    const { orchestrator, catalog } = this.#options;
    await orchestrator.resume();
    const adopted = orchestrator.list();
    const running = new Set(adopted.map((i) => i.peerId));
    const all = await catalog.list();
    // Peers that outlived the last dispatcher (Swarm services) answer already: routed again at once.
    const known = new Set(all.map((p) => p.id));
    await Promise.all(adopted.filter((i) => known.has(i.peerId)).map((instance) => this.#place(instance)));
    // Users' peers first: someone may be waiting for theirs.
    const listed = all
      .filter((p) => !running.has(p.id))
      .sort((a, b) => Number(b.state === 'claimed') - Number(a.state === 'claimed'));
    // Not reachable until they are back: no ticket is handed out for them meanwhile, and
    // their owners wait on the progress page instead.
    for (const peer of listed) if (peer.healthy) await catalog.setHealthy(peer.id, false);
    this.#resumingVacant = listed.filter((p) => p.state === 'vacant').length;
    const queue = [...listed];
    const worker = async () => {
      for (let peer = queue.shift(); peer && this.#running; peer = queue.shift()) await this.#resumeOne(peer);
    };
    await Promise.all(Array.from({ length: this.#options.maxConcurrentStarts ?? 2 }, worker));
    // Those a stop left in the queue are not coming back in this run.
    this.#resumingVacant = 0;
  }

  async #resumeOne(peer: CatalogPeer): Promise<void> {
    const { orchestrator, catalog } = this.#options;
    try {
      const instance = await orchestrator.start({ name: peer.name, instanceId: peer.instanceId });
      if (instance.peerId !== peer.id) {
        this.#log.error(
          { peerId: peer.id, found: instance.peerId },
          'instance came back with another identity; dropping it',
        );
        await orchestrator.stop(instance.instanceId);
        throw new Error('identity changed');
      }
      await this.#place(instance);
      this.#log.info({ peerId: peer.id, owner: peer.owner }, 'peer resumed');
    } catch (err) {
      // Stopped meanwhile: the entry stays for the next start.
      if (!this.#running) return;
      if (peer.state === 'vacant') {
        await this.#drop(peer.id);
      } else {
        this.#log.error({ err, peerId: peer.id, owner: peer.owner }, 'a user’s peer could not be resumed');
        await catalog.setHealthy(peer.id, false);
      }
    } finally {
      if (peer.state === 'vacant') this.#resumingVacant--;
    }
  }

  #tick(): void {
    if (!this.#running) return;
    void this.reconcile()
      .then(() => this.fill())
      .catch((err: unknown) => this.#log.error({ err }, 'pool upkeep failed'))
      .finally(() => {
        if (this.#running) this.#timer = setTimeout(() => this.#tick(), this.#options.reconcileIntervalMs ?? 5_000);
      });
  }

  /** Brings catalog and orchestrator into agreement. */
  async reconcile(): Promise<void> {
    const { orchestrator, catalog } = this.#options;
    const instances = new Map(orchestrator.list().map((i) => [i.peerId, i]));
    const listed = await catalog.list();
    const known = new Set(listed.map((p) => p.id));
    for (const peer of listed) {
      const instance = instances.get(peer.id);
      if (!instance && peer.state === 'vacant') {
        this.#log.warn({ peerId: peer.id }, 'vacant peer without a running instance; removing it');
        await this.#drop(peer.id);
      } else if (!instance) {
        // Someone's peer: the assignment stays, and the peer shows unhealthy until it runs again.
        if (peer.healthy) await catalog.setHealthy(peer.id, false);
      } else {
        const healthy = instance.state === 'running' && (await this.#answers(peer));
        if (!healthy && peer.state === 'vacant' && instance.state === 'running') {
          this.#log.warn({ peerId: peer.id }, 'vacant peer stopped answering; replacing it');
          await orchestrator.stop(instance.instanceId);
          await this.#drop(peer.id);
        } else if (peer.healthy !== healthy) {
          await catalog.setHealthy(peer.id, healthy);
        }
      }
    }
    for (const instance of instances.values()) {
      // Still starting through this pool: registered as soon as it is up.
      if (known.has(instance.peerId) || this.#starting > 0) continue;
      this.#log.warn({ peerId: instance.peerId }, 'peer the catalog does not know; stopping it');
      await orchestrator.stop(instance.instanceId);
    }
  }

  async #untilAnswers(target: ProbeTarget): Promise<void> {
    const probe = this.#options.probe;
    if (!probe) return;
    const until = Date.now() + (this.#options.answerTimeoutMs ?? 15_000);
    while (this.#running && !(await probe(target).catch(() => false))) {
      if (Date.now() > until) {
        this.#log.warn({ address: target.address }, 'a peer does not answer where it listens; listed anyway');
        return;
      }
      await sleep(200);
    }
  }

  /** The probe's verdict, lenient: only several failures in a row make a peer unhealthy. */
  async #answers(peer: CatalogPeer): Promise<boolean> {
    const probe = this.#options.probe;
    if (!probe) return true;
    const ok = await probe(peer).catch(() => false);
    const failures = ok ? 0 : (this.#failedProbes.get(peer.id) ?? 0) + 1;
    if (failures === 0) this.#failedProbes.delete(peer.id);
    else this.#failedProbes.set(peer.id, failures);
    return failures < (this.#options.unhealthyAfter ?? 3);
  }
}
