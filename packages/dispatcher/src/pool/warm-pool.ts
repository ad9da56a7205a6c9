import { EventEmitter } from 'node:events';
import { type Logger, pino } from 'pino';
import type { Catalog } from '../catalog/catalog.js';
import type { Orchestrator, PeerInstance } from '../orchestrator/orchestrator.js';

export interface WarmPoolOptions {
  orchestrator: Orchestrator;
  catalog: Catalog;
  /** Vacant, healthy peers to keep ready. */
  target: number;
  /** Peers started at once while refilling. */
  maxConcurrentStarts?: number;
  reconcileIntervalMs?: number;
  log?: Logger;
}

export interface PoolStats {
  target: number;
  vacant: number;
  claimed: number;
  starting: number;
}

interface WarmPoolEvents {
  /** A new peer is registered as vacant. */
  ready: [instance: PeerInstance];
  /** A start failed (the pool tries again at the next fill). */
  failed: [error: Error];
}

/**
 * Keeps `target` vacant, healthy peers ready for users who log in: refills in the background
 * (a few starts at a time), and reconciles what the orchestrator runs with what the catalog
 * lists: vacant entries without an instance go (a user's stays, marked unhealthy), instances
 * the catalog does not know are stopped, and a restarting instance counts as unhealthy until
 * it is back.
 */
export class WarmPool extends EventEmitter<WarmPoolEvents> {
  readonly #options: WarmPoolOptions;
  readonly #log: Logger;
  #starting = 0;
  #timer: NodeJS.Timeout | null = null;
  #running = false;
  #filling: Promise<void> | null = null;
  #seq = 0;

  constructor(options: WarmPoolOptions) {
    super();
    this.#options = options;
    this.#log = (options.log ?? pino({ level: 'silent' })).child({ component: 'pool' });
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const tick = () => {
      void this.reconcile()
        .then(() => this.fill())
        .catch((err: unknown) => this.#log.error({ err }, 'pool upkeep failed'))
        .finally(() => {
          if (this.#running) this.#timer = setTimeout(tick, this.#options.reconcileIntervalMs ?? 5_000);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#filling;
  }

  async stats(): Promise<PoolStats> {
    const peers = await this.#options.catalog.list();
    return {
      target: this.#options.target,
      vacant: peers.filter((p) => p.state === 'vacant' && p.healthy).length,
      claimed: peers.filter((p) => p.state === 'claimed').length,
      starting: this.#starting,
    };
  }

  /** Starts peers until `target` are vacant (counting those already starting). */
  fill(): Promise<void> {
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
      const missing = this.#options.target - vacant - this.#starting;
      if (!this.#running || missing <= 0 || this.#starting >= limit) break;
      starts.push(this.#startOne());
    }
    await Promise.all(starts);
    if (starts.length > 0 && this.#running) await this.#fill();
  }

  async #startOne(): Promise<void> {
    this.#starting++;
    try {
      const instance = await this.#options.orchestrator.start({ name: `peer-${++this.#seq}` });
      await this.#options.catalog.register({
        id: instance.peerId,
        name: instance.name,
        address: instance.address,
        greetingPort: instance.greetingPort,
        securePort: instance.securePort,
        webPort: 0,
        fingerprint: instance.fingerprint,
      });
      this.#log.info({ peerId: instance.peerId }, 'vacant peer ready');
      this.emit('ready', instance);
    } catch (err) {
      this.#log.warn({ err }, 'could not start a pool peer');
      this.emit('failed', err as Error);
    } finally {
      this.#starting--;
    }
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
        await catalog.remove(peer.id);
      } else if (!instance) {
        // Someone's peer: the assignment stays, and the peer shows unhealthy until it runs again.
        if (peer.healthy) await catalog.setHealthy(peer.id, false);
      } else if (peer.healthy !== (instance.state === 'running')) {
        await catalog.setHealthy(peer.id, instance.state === 'running');
      }
    }
    for (const instance of instances.values()) {
      // Still starting through this pool: registered as soon as it is up.
      if (known.has(instance.peerId) || this.#starting > 0) continue;
      this.#log.warn({ peerId: instance.peerId }, 'peer the catalog does not know; stopping it');
      await orchestrator.stop(instance.instanceId);
    }
  }
}
