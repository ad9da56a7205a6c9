import { generateKeyPairSync } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SwarmOrchestrator, type SwarmOrchestratorOptions } from '../src/index.js';
import { orchestratorCompliance } from './helpers/orchestrator-compliance.js';
import { killContainer, PEER_IMAGE, removePool, type TestSwarm, testSwarm } from './helpers/swarm.js';

/** Service creation to a ready peer, on a shared 2-core machine. */
const SWARM_TIMEOUT_MS = 90_000;

let swarm: TestSwarm;
beforeAll(async () => {
  swarm = await testSwarm();
}, SWARM_TIMEOUT_MS);
afterAll(async () => {
  await swarm?.cleanup();
}, SWARM_TIMEOUT_MS);

function orchestrator(options: Partial<SwarmOrchestratorOptions> = {}): SwarmOrchestrator {
  return new SwarmOrchestrator({
    docker: swarm.docker,
    image: PEER_IMAGE,
    network: swarm.network,
    pool: swarm.pool,
    startTimeoutMs: 60_000,
    ...options,
  });
}

orchestratorCompliance(
  'SwarmOrchestrator',
  async () => ({
    create: () => orchestrator(),
    kill: (instance) => killContainer(swarm.docker, instance.instanceId),
    broken: () => ({ orchestrator: orchestrator({ image: 'p2p-messenger/no-such-peer:none' }), error: /pnpm images/ }),
    // Each test starts from an empty pool: services outlive their orchestrators on purpose.
    cleanup: () => removePool(swarm.docker, swarm.pool),
  }),
  SWARM_TIMEOUT_MS,
);

describe('SwarmOrchestrator against a real Swarm', () => {
  afterEach(() => removePool(swarm.docker, swarm.pool), SWARM_TIMEOUT_MS);

  it(
    'runs each peer as a labelled service on the overlay network, with its own volume, limits and restarts',
    async () => {
      const peers = orchestrator({ cpus: 0.25, memoryBytes: 200 * 1024 * 1024 });
      try {
        const instance = await peers.start({ name: 'ada' });
        const [service] = await swarm.docker.listServices({
          filters: { label: [`org.p2p-messenger.instance-id=${instance.instanceId}`] },
        });
        const spec = service?.Spec;
        const task = spec?.TaskTemplate as Docker.ContainerTaskSpec | undefined;
        expect(spec?.Labels).toMatchObject({
          'org.p2p-messenger.project': 'p2p-messenger',
          'org.p2p-messenger.pool': swarm.pool,
          'org.p2p-messenger.role': 'peer',
        });
        expect(spec?.EndpointSpec?.Mode).toBe('dnsrr');
        expect(spec?.TaskTemplate?.Resources?.Limits).toEqual({
          NanoCPUs: 250_000_000,
          MemoryBytes: 200 * 1024 * 1024,
        });
        expect(spec?.TaskTemplate?.RestartPolicy?.Condition).toBe('any');
        const mount = task?.ContainerSpec?.Mounts?.[0];
        expect(mount).toMatchObject({
          Type: 'volume',
          Source: `p2pm-peer-${instance.instanceId}-data`,
          Target: '/data',
        });
        expect(instance.address).toBe(`p2pm-peer-${instance.instanceId}`);
        // No container health check (a Node process each time): the dispatcher probes peers itself.
        // (The engine answers with the key as Go spells it, whatever the key it was given.)
        expect((task?.ContainerSpec as { Healthcheck?: { Test?: string[] } } | undefined)?.Healthcheck?.Test).toEqual([
          'NONE',
        ]);
        // Once ready, the service says which peer it runs.
        await expect
          .poll(async () => (await swarm.docker.getService(service?.ID as string).inspect()).Spec?.Labels, {
            timeout: 10_000,
          })
          .toMatchObject({ 'org.p2p-messenger.peer-id': instance.peerId });
        // Once claimed, whose it is; a new orchestrator (the dispatcher restarted) knows it, labelling nothing again.
        const tasksBefore = (await swarm.docker.listTasks({ filters: { service: [service?.ID as string] } })).length;
        peers.setOwner(instance.instanceId, 'user-7');
        await expect
          .poll(async () => (await swarm.docker.getService(service?.ID as string).inspect()).Spec?.Labels, {
            timeout: 10_000,
          })
          .toMatchObject({ 'org.p2p-messenger.peer-id': instance.peerId, 'org.p2p-messenger.owner': 'user-7' });
        expect((await swarm.docker.listTasks({ filters: { service: [service?.ID as string] } })).length).toBe(
          tasksBefore,
        );
        await peers.close();
        const again = orchestrator();
        await again.resume();
        const version = (await swarm.docker.getService(service?.ID as string).inspect()).Version?.Index;
        again.setOwner(instance.instanceId, 'user-7');
        await again.close();
        expect((await swarm.docker.getService(service?.ID as string).inspect()).Version?.Index).toBe(version);
      } finally {
        await peers.close();
      }
    },
    SWARM_TIMEOUT_MS,
  );

  it(
    'hands the ticket key as a Docker config and the catalog token as a Docker secret, never in plain env',
    async () => {
      const peers = orchestrator({
        peerSettings: () => ({
          ticketPublicKeyPem: generateKeyPairSync('ed25519')
            .publicKey.export({ type: 'spki', format: 'pem' })
            .toString(),
          catalogUrl: 'http://dispatcher:8080/catalog/v1',
          catalogToken: 'secret-catalog-token',
        }),
      });
      try {
        await peers.start({ name: 'ada' });
        const [service] = await swarm.docker.listServices({
          filters: { label: [`org.p2p-messenger.pool=${swarm.pool}`] },
        });
        const container = (service?.Spec?.TaskTemplate as Docker.ContainerTaskSpec | undefined)?.ContainerSpec;
        expect(container?.Env?.join(' ')).not.toContain('secret-catalog-token');
        expect(container?.Env).toContain('P2PM_CATALOG_TOKEN_FILE=/run/secrets/catalog-token');
        expect(container?.Secrets?.[0]?.SecretName).toMatch(new RegExp(`^p2pm-${swarm.pool}-catalog-token-`));
        expect(container?.Configs?.[0]?.ConfigName).toMatch(new RegExp(`^p2pm-${swarm.pool}-ticket-key-`));
      } finally {
        await peers.close();
      }
    },
    SWARM_TIMEOUT_MS,
  );

  it(
    'says what is wrong: Docker unreachable, a missing network, a task that cannot be placed or fails',
    async () => {
      const unreachable = orchestrator({ docker: new Docker({ socketPath: '/nonexistent/docker.sock' }) });
      await expect(unreachable.start({ name: 'ada' })).rejects.toMatchObject({
        name: 'DockerUnreachableError',
        message: expect.stringMatching(/unix:\/\/\/nonexistent\/docker\.sock does not answer \(ENOENT\): start Docker/),
      });
      const noNetwork = orchestrator({ network: 'p2pm-no-such-network' });
      await expect(noNetwork.start({ name: 'ada' })).rejects.toMatchObject({
        name: 'NetworkMissingError',
        message: expect.stringContaining('docker network create --driver overlay --attachable p2pm-no-such-network'),
      });
      const nowhere = orchestrator({ placement: ['node.labels.p2pm-test-nowhere==yes'], pendingTimeoutMs: 2_000 });
      await expect(nowhere.start({ name: 'ada' })).rejects.toMatchObject({ name: 'TaskPendingError' });
      const starved = orchestrator({ memoryBytes: 6 * 1024 * 1024 });
      await expect(starved.start({ name: 'ada' })).rejects.toMatchObject({ name: 'TaskFailedError' });
      // Nothing of them is left: no service of the pool.
      expect(await swarm.docker.listServices({ filters: { label: [`org.p2p-messenger.pool=${swarm.pool}`] } })).toEqual(
        [],
      );
      for (const o of [unreachable, noNetwork, nowhere, starved]) await o.close();
    },
    SWARM_TIMEOUT_MS,
  );

  it(
    'leaves services of other pools, and services without its labels, alone',
    async () => {
      const other = await swarm.docker.createService({
        Name: `p2pm-test-stranger-${swarm.pool}`,
        Labels: { 'org.p2p-messenger.pool': `${swarm.pool}-other` },
        TaskTemplate: { ContainerSpec: { Image: PEER_IMAGE, Env: ['P2PM_NAME=stranger'] } },
      });
      try {
        const peers = orchestrator();
        await peers.resume();
        expect(peers.list()).toEqual([]);
        await peers.close();
        expect((await swarm.docker.getService(other.id).inspect()).ID).toBe(other.id);
      } finally {
        await swarm.docker.getService(other.id).remove();
      }
    },
    SWARM_TIMEOUT_MS,
  );
});
