import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { SWARM_LABELS } from '../../src/index.js';

export const PEER_IMAGE = 'p2p-messenger/peer:local';

/** A Swarm of this test's own making, or the one the engine is already part of. */
export interface TestSwarm {
  docker: Docker;
  /** An attachable overlay network of the test's own. */
  network: string;
  /** A pool label of the test's own: only its services carry it. */
  pool: string;
  /** Removes every service, container, volume, config, secret and network of the pool; leaves a Swarm it made. */
  cleanup(): Promise<void>;
}

/** Joins (or makes) a single-node Swarm on loopback and gives the test a network and a pool of its own. */
export async function testSwarm(): Promise<TestSwarm> {
  const docker = new Docker();
  const info = await docker.info();
  const made = info.Swarm?.LocalNodeState !== 'active';
  if (made) await docker.swarmInit({ ListenAddr: '127.0.0.1:2377', AdvertiseAddr: '127.0.0.1:2377' });
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
      if (made) await docker.swarmLeave({ force: true });
    },
  };
}

/** Everything labelled with the pool, services first (their containers go with them). */
export async function removePool(docker: Docker, pool: string): Promise<void> {
  const label = [`${SWARM_LABELS.pool}=${pool}`];
  const services = await docker.listServices({ filters: { label } });
  await Promise.all(
    services.map((s) =>
      docker
        .getService(s.ID)
        .remove()
        .catch(() => {}),
    ),
  );
  for (let i = 0; i < 120; i++) {
    if ((await docker.listContainers({ all: true, filters: { label } })).length === 0) break;
    await sleep(250);
  }
  const { Volumes } = await docker.listVolumes({ filters: { label } });
  await Promise.all(
    (Volumes ?? []).map((v) =>
      docker
        .getVolume(v.Name)
        .remove()
        .catch(() => {}),
    ),
  );
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
