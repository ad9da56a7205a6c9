import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { SWARM_LABELS } from '../../src/index.js';

export const PEER_IMAGE = 'p2p-messenger/peer:local';

/** A network and a pool of the test's own in the Swarm the test run made (tools/docker-setup.ts). */
export interface TestSwarm {
  docker: Docker;
  /** An attachable overlay network of the test's own. */
  network: string;
  /** A pool label of the test's own: only its services carry it. */
  pool: string;
  /** Removes every service, container, volume, config, secret and network of the pool. */
  cleanup(): Promise<void>;
}

export async function testSwarm(): Promise<TestSwarm> {
  const docker = new Docker();
  if ((await docker.info()).Swarm?.LocalNodeState !== 'active') {
    throw new Error(
      'the Docker engine is in no Swarm: the test run makes one (tools/docker-setup.ts), or run "docker swarm init"',
    );
  }
  const suffix = randomBytes(4).toString('hex');
  const network = `p2pm-test-${suffix}`;
  const pool = `test-${suffix}`;
  await docker.createNetwork({
    Name: network,
    Driver: 'overlay',
    Attachable: true,
    Labels: { [SWARM_LABELS.pool]: pool },
  });
  return {
    docker,
    network,
    pool,
    cleanup: async () => {
      await removePool(docker, pool);
      await docker
        .getNetwork(network)
        .remove()
        .catch(() => {});
    },
  };
}

/**
 * Everything labelled with the pool: its dispatcher first (else it starts peers again), then
 * the peer services (their containers go with them), volumes, configs and secrets.
 */
export async function removePool(docker: Docker, pool: string): Promise<void> {
  const label = [`${SWARM_LABELS.pool}=${pool}`];
  await removeServices(docker, [...label, `${SWARM_LABELS.role}=dispatcher`]);
  await removeServices(docker, label);
  await removeVolumes(docker, label);
  for (const config of await docker.listConfigs({ filters: { label } })) await docker.getConfig(config.ID).remove();
  for (const secret of await docker.listSecrets({ filters: { label } })) await docker.getSecret(secret.ID).remove();
}

/** `docker kill` of the running container of an instance: Swarm then starts another task. */
export async function killContainer(docker: Docker, instanceId: string): Promise<void> {
  const [container] = await docker.listContainers({
    filters: { label: [`${SWARM_LABELS.instanceId}=${instanceId}`] },
  });
  if (!container) throw new Error(`no running container of ${instanceId}`);
  await docker.getContainer(container.Id).kill({ signal: 'SIGKILL' });
}

/** The services with these labels, and then their containers, gone. */
async function removeServices(docker: Docker, label: string[]): Promise<void> {
  const services = await docker.listServices({ filters: { label } });
  await Promise.all(
    services.map((s) =>
      docker
        .getService(s.ID)
        .remove()
        .catch(() => {}),
    ),
  );
  const serviceIds = new Set(services.map((s) => s.ID));
  for (let i = 0; i < 120; i++) {
    const left = await docker.listContainers({ all: true, filters: { label: [label[0] as string] } });
    if (!left.some((c) => serviceIds.has(c.Labels['com.docker.swarm.service.id'] ?? ''))) return;
    await sleep(250);
  }
}

/**
 * The pool's volumes. A volume stays in use until the last container of a removed service is
 * gone, which Swarm does on its own time (also for services the test stopped before): tried
 * again while the engine says it is in use.
 */
async function removeVolumes(docker: Docker, label: string[]): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const { Volumes } = await docker.listVolumes({ filters: { label } });
    const results = await Promise.all(
      (Volumes ?? []).map((v) =>
        docker
          .getVolume(v.Name)
          .remove()
          .then(
            () => true,
            (err: { statusCode?: number }) => err.statusCode === 404,
          ),
      ),
    );
    if (results.every(Boolean)) return;
    await sleep(250);
  }
}
