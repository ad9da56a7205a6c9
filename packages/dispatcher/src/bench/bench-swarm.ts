import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type Docker from 'dockerode';
import { LABELS } from '../orchestrator/swarm/service-spec.js';

/** A loaded engine takes a while to stop and remove hundreds of containers. */
const GONE_TIMEOUT_MS = 300_000;

/**
 * The benchmark's own place in the Swarm: an attachable overlay network and a pool label that
 * only what the benchmark creates carries. `remove` takes away every service, container,
 * volume, config, secret and the network of it, and nothing else.
 */
export class BenchSwarm {
  readonly docker: Docker;
  readonly network: string;
  readonly pool: string;

  private constructor(docker: Docker, suffix: string) {
    this.docker = docker;
    this.network = `p2pm-bench-${suffix}`;
    this.pool = `bench-${suffix}`;
  }

  static async create(docker: Docker): Promise<BenchSwarm> {
    if ((await docker.info()).Swarm?.ControlAvailable !== true) {
      throw new Error('this Docker engine is not a Swarm manager: run "docker swarm init" first');
    }
    const place = new BenchSwarm(docker, randomBytes(4).toString('hex'));
    await docker.createNetwork({ Name: place.network, Driver: 'overlay', Attachable: true, Labels: place.labels });
    return place;
  }

  /** What every object of the benchmark carries. */
  get labels(): Record<string, string> {
    return { [LABELS.pool]: this.pool };
  }

  /** A Docker secret of the benchmark's own; its id. */
  async secret(name: string, content: string): Promise<string> {
    const created = await this.docker.createSecret({
      Name: `${this.pool}-${name}`,
      Labels: this.labels,
      Data: Buffer.from(content).toString('base64'),
    });
    return (created as { id: string }).id;
  }

  /**
   * The dispatcher's service first, and its container gone (while it stops, it may still start
   * peers), then the peer services and their containers, then what they leave behind.
   */
  async remove(): Promise<void> {
    await this.#removeServices('dispatcher');
    await this.#removeServices('peer');
    const { docker } = this;
    const label = [`${LABELS.pool}=${this.pool}`];
    const { Volumes } = await docker.listVolumes({ filters: { label } });
    await Promise.all((Volumes ?? []).map((v) => docker.getVolume(v.Name).remove().catch(ignore)));
    for (const s of await docker.listSecrets({ filters: { label } }))
      await docker.getSecret(s.ID).remove().catch(ignore);
    for (const c of await docker.listConfigs({ filters: { label } }))
      await docker.getConfig(c.ID).remove().catch(ignore);
    await docker.getNetwork(this.network).remove().catch(ignore);
  }

  /** Until no service of the role is left, nor any of their containers. */
  async #removeServices(role: string): Promise<void> {
    const { docker } = this;
    const label = [`${LABELS.pool}=${this.pool}`, `${LABELS.role}=${role}`];
    const until = performance.now() + GONE_TIMEOUT_MS;
    while (performance.now() < until) {
      const services = await docker.listServices({ filters: { label } });
      await Promise.all(services.map((s) => docker.getService(s.ID).remove().catch(ignore)));
      const containers = await docker.listContainers({ all: true, filters: { label } });
      if (services.length === 0 && containers.length === 0) return;
      await delay(500);
    }
  }

  /** The benchmark's peer services, and its containers still there (none after `remove`). */
  async counts(): Promise<{ peerServices: number; leftovers: number }> {
    const label = [`${LABELS.pool}=${this.pool}`];
    const services = await this.docker.listServices({ filters: { label: [...label, `${LABELS.role}=peer`] } });
    const containers = await this.docker.listContainers({ all: true, filters: { label } });
    const volumes = (await this.docker.listVolumes({ filters: { label } })).Volumes ?? [];
    return { peerServices: services.length, leftovers: containers.length + volumes.length };
  }
}

function ignore(): void {}
