import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { beforeEach } from 'vitest';
import type { TestSwarm } from '../../packages/dispatcher/test/helpers/swarm.js';

export const DISPATCHER_IMAGE = 'p2p-messenger/dispatcher:local';
const DOCKER_SOCKET = '/var/run/docker.sock';
/** Where a dispatcher service given a directory of its own finds the engine's socket. */
const ENGINE_DIR_IN_CONTAINER = '/run/p2pm-engine';

export interface DispatcherServiceInit {
  /** Published on this host (mode host). */
  port: number;
  /** P2PM_* settings over the defaults (a pool of 2). */
  settings?: Record<string, string>;
  /**
   * A directory on this host holding `docker.sock` (e.g. a forwarder of the test's own): the
   * dispatcher reaches the engine there (DOCKER_HOST), not at the host's socket.
   */
  engineDir?: string;
}

/** A dispatcher service and where users open it. */
export interface DispatcherService {
  name: string;
  url: string;
}

/**
 * The dispatcher as a Swarm service on a manager, with the Docker socket (in the socket's
 * group, not as root), peers as Swarm services on the overlay network, its port published on
 * this host (mode host: the ingress mesh needs IPVS, which this kernel lacks).
 */
export async function deployDispatcher(swarm: TestSwarm, init: DispatcherServiceInit): Promise<DispatcherService> {
  const name = `p2pm-dispatcher-${swarm.pool}`;
  const socketGroup = String((await stat(DOCKER_SOCKET)).gid);
  const settings: Record<string, string> = {
    P2PM_ORCHESTRATOR: 'swarm',
    P2PM_SWARM_NETWORK: swarm.network,
    P2PM_POOL_NAME: swarm.pool,
    P2PM_ADVERTISE_URL: `http://${name}:8080`,
    P2PM_PUBLIC_URL: `http://127.0.0.1:${init.port}`,
    P2PM_POOL_TARGET: '2',
    ...init.settings,
    ...(init.engineDir ? { DOCKER_HOST: `unix://${ENGINE_DIR_IN_CONTAINER}/docker.sock` } : {}),
  };
  const engine = init.engineDir
    ? { Type: 'bind' as const, Source: init.engineDir, Target: ENGINE_DIR_IN_CONTAINER }
    : { Type: 'bind' as const, Source: DOCKER_SOCKET, Target: DOCKER_SOCKET };
  await swarm.docker.createService({
    Name: name,
    Labels: { 'org.p2p-messenger.pool': swarm.pool, 'org.p2p-messenger.role': 'dispatcher' },
    TaskTemplate: {
      ContainerSpec: {
        Image: DISPATCHER_IMAGE,
        Labels: { 'org.p2p-messenger.pool': swarm.pool },
        Groups: [socketGroup],
        Env: Object.entries(settings).map(([key, value]) => `${key}=${value}`),
        Mounts: [
          engine,
          {
            Type: 'volume',
            Source: `${name}-data`,
            Target: '/data',
            VolumeOptions: {
              NoCopy: false,
              Labels: { 'org.p2p-messenger.pool': swarm.pool },
              DriverConfig: { Name: 'local', Options: {} },
            },
          },
        ],
      },
      Placement: { Constraints: ['node.role==manager'] },
      Networks: [{ Target: swarm.network }],
    },
    EndpointSpec: {
      Mode: 'dnsrr',
      Ports: [{ Protocol: 'tcp', TargetPort: 8080, PublishedPort: init.port, PublishMode: 'host' }],
    },
  });
  return { name, url: `http://127.0.0.1:${init.port}` };
}

/** Ready: its port answers and every peer of its catalog is back. */
export async function waitReady(url: string, timeoutMs = 90_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while ((await fetch(`${url}/readyz`).catch(() => null))?.status !== 200) {
    if (Date.now() > until) throw new Error(`the dispatcher did not get ready at ${url}`);
    await sleep(500);
  }
}

/** The test's peer services, by id, sorted. */
export async function peerServiceIds(swarm: TestSwarm): Promise<string[]> {
  const services = await swarm.docker.listServices({
    filters: { label: [`org.p2p-messenger.pool=${swarm.pool}`, 'org.p2p-messenger.role=peer'] },
  });
  return services.map((service) => service.ID).sort();
}

/** The running container of each peer service of the test. */
export async function peerContainers(swarm: TestSwarm): Promise<Docker.ContainerInfo[]> {
  const containers = await Promise.all(
    (await peerServiceIds(swarm)).map(async (serviceId) => {
      const [container] = await swarm.docker.listContainers({
        filters: { label: [`com.docker.swarm.service.id=${serviceId}`] },
      });
      return container;
    }),
  );
  return containers.filter((container): container is Docker.ContainerInfo => container !== undefined);
}

/** The running container of the peer `peerId` (its ready line names it), or null. */
export async function peerContainerOf(swarm: TestSwarm, peerId: string): Promise<Docker.ContainerInfo | null> {
  for (const container of await peerContainers(swarm)) {
    const logs = (await swarm.docker.getContainer(container.Id).logs({ stdout: true, stderr: false })).toString();
    if (logs.includes(`"id":"${peerId}"`)) return container;
  }
  return null;
}

/** The id of the peer service that runs `peerId`. */
export async function peerServiceOf(swarm: TestSwarm, peerId: string): Promise<string> {
  const serviceId = (await peerContainerOf(swarm, peerId))?.Labels['com.docker.swarm.service.id'];
  if (!serviceId) throw new Error(`no running peer service of peer ${peerId}`);
  return serviceId;
}

/** The peer services once they have not changed for a few seconds (a refill is over). */
export async function settledPeerServices(swarm: TestSwarm): Promise<string[]> {
  let last = await peerServiceIds(swarm);
  for (let stable = 0; stable < 3; ) {
    await sleep(1_000);
    const now = await peerServiceIds(swarm);
    stable = now.join() === last.join() ? stable + 1 : 0;
    last = now;
  }
  return last;
}

/** What of the test is still on the engine: each kind by name or id (all empty after its teardown). */
export async function leftovers(swarm: TestSwarm): Promise<Record<string, string[]>> {
  const label = [`org.p2p-messenger.pool=${swarm.pool}`];
  const { docker } = swarm;
  return {
    services: (await docker.listServices({ filters: { label } })).map((s) => s.Spec?.Name ?? s.ID),
    containers: (await docker.listContainers({ all: true, filters: { label } })).map((c) => c.Id),
    volumes: ((await docker.listVolumes({ filters: { label } })).Volumes ?? []).map((v) => v.Name),
    configs: (await docker.listConfigs({ filters: { label } })).map((c) => c.Spec?.Name ?? c.ID),
    secrets: (await docker.listSecrets({ filters: { label } })).map((s) => s.Spec?.Name ?? s.ID),
    networks: (await docker.listNetworks({ filters: { name: [swarm.network] } }))
      .filter((n) => n.Name === swarm.network)
      .map((n) => n.Name),
  };
}

export const NOTHING_LEFT = { services: [], containers: [], volumes: [], configs: [], secrets: [], networks: [] };

/** The last lines of the dispatcher service's log (its running or last container), to print when a test failed. */
export async function dispatcherLogTail(swarm: TestSwarm, lines = 60): Promise<string> {
  const [container] = await swarm.docker.listContainers({
    all: true,
    filters: { label: [`com.docker.swarm.service.name=p2pm-dispatcher-${swarm.pool}`] },
  });
  if (!container) return '(no dispatcher container)';
  const logs = await swarm.docker.getContainer(container.Id).logs({ stdout: true, stderr: true, tail: lines });
  return `--- dispatcher service of ${swarm.pool} (last ${lines} lines) ---\n${logs.toString('utf8')}`;
}

/** Prints the dispatcher service's log after each failed test of the file (or describe) that calls it. */
export function printDispatcherLogOnFailure(swarm: () => TestSwarm | undefined): void {
  beforeEach(({ onTestFailed }) => {
    onTestFailed(async () => {
      const current = swarm();
      if (current) process.stderr.write(`${await dispatcherLogTail(current)}\n`);
    });
  });
}
