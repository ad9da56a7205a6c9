import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { onEngineEvents, type RawEngineEvent } from '../orchestrator/swarm/event-lines.js';
import { LABELS } from '../orchestrator/swarm/service-spec.js';

const SERVICE_NAME = 'com.docker.swarm.service.name';

/**
 * When the engine created each of a pool's peer services, and created and started their
 * containers (epoch ms, the engine's clock: the same host's): the stages of a cold start.
 */
export class EngineTimeline {
  readonly #stream: Readable;
  readonly #pool: string;
  /** By service name: action -> first time. */
  readonly #times = new Map<string, Map<string, number>>();

  private constructor(stream: Readable, pool: string) {
    this.#stream = stream;
    this.#pool = pool;
    onEngineEvents(stream, (event) => this.#record(event));
    stream.on('error', () => {});
  }

  /** Service events carry no labels: services of other pools are kept apart by their containers' labels. */
  static async follow(docker: Docker, pool: string): Promise<EngineTimeline> {
    const stream = (await docker.getEvents({
      filters: { type: ['service', 'container'], event: ['create', 'start'] },
    })) as Readable;
    return new EngineTimeline(stream, pool);
  }

  /** The stages of one service: created, its first container created and started (absent if not seen). */
  of(serviceName: string): { serviceCreated?: number; containerCreated?: number; containerStarted?: number } {
    const times = this.#times.get(serviceName);
    return {
      ...(times?.has('service create') ? { serviceCreated: times.get('service create') } : {}),
      ...(times?.has('container create') ? { containerCreated: times.get('container create') } : {}),
      ...(times?.has('container start') ? { containerStarted: times.get('container start') } : {}),
    };
  }

  stop(): void {
    this.#stream.destroy();
  }

  #record(raw: RawEngineEvent): void {
    const attributes = raw.Actor?.Attributes ?? {};
    if (raw.Type === 'container' && attributes[LABELS.pool] !== this.#pool) return;
    const name = raw.Type === 'service' ? attributes.name : attributes[SERVICE_NAME];
    if (!name || !raw.timeNano) return;
    const times = this.#times.get(name) ?? new Map<string, number>();
    const key = `${raw.Type} ${raw.Action}`;
    if (!times.has(key)) times.set(key, raw.timeNano / 1e6);
    this.#times.set(name, times);
  }
}

/** When the service's container printed the peer's ready line (epoch ms, from the log's timestamps). */
export async function readyLinePrintedAt(docker: Docker, serviceName: string): Promise<number | undefined> {
  const [container] = await docker.listContainers({ filters: { label: [`${SERVICE_NAME}=${serviceName}`] } });
  if (!container) return undefined;
  const logs = await docker.getContainer(container.Id).logs({ stdout: true, stderr: false, timestamps: true });
  // Multiplexed frames; each line starts with an RFC 3339 time (nanoseconds, UTC).
  const line = /(\d{4}-\d\d-\d\dT[\d:.]+Z) \{"name":.*"fingerprint":/.exec(Buffer.from(logs).toString('latin1'));
  return line?.[1] ? Date.parse(line[1]) : undefined;
}
