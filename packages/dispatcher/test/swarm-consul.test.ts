import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { issueTicket } from '@p2p-messenger/peer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsulStandIn } from '../../discovery/test/helpers/consul-standin.js';
import { peerConsulSettings, peerServiceName } from '../src/catalog/consul/peer-registration.js';
import { ConsulCatalog, type PeerInstance, SwarmOrchestrator } from '../src/index.js';
import { hostForContainers, runOnOverlay } from './helpers/overlay-probe.js';
import { PEER_IMAGE, type TestSwarm, testSwarm } from './helpers/swarm.js';

const SWARM_TIMEOUT_MS = 180_000;
const CHAT = readFileSync(new URL('./fixtures/overlay-chat.mjs', import.meta.url), 'utf8');

interface HealthEntry {
  Service: { ID: string; Address: string; Port: number; Tags: string[] };
  Checks: { Status: string }[];
}

/**
 * Peer services of a pool whose catalog is in Consul. The agent is the stand-in, listening
 * on the host's side of docker_gwbridge, where the test's containers reach it (and nothing
 * beyond this machine can); a real agent would have to listen where containers reach it too.
 */
describe('peer services registering in Consul, on a real Swarm', () => {
  let swarm: TestSwarm;
  let consul: ConsulStandIn;
  beforeAll(async () => {
    swarm = await testSwarm();
    consul = await ConsulStandIn.start({ host: await hostForContainers(swarm.docker) });
  }, SWARM_TIMEOUT_MS);
  afterAll(async () => {
    await swarm?.cleanup();
    await consul?.stop();
  }, SWARM_TIMEOUT_MS);

  it(
    'registers each peer under its service name; owners’ peers find each other through Consul and write both ways, spares stay unseen; a stopped peer is deregistered',
    async () => {
      const ticketKey = generateKeyPairSync('ed25519');
      const orchestrator = new SwarmOrchestrator({
        docker: swarm.docker,
        image: PEER_IMAGE,
        network: swarm.network,
        pool: swarm.pool,
        startTimeoutMs: 90_000,
        peerSettings: () => ({
          ticketPublicKeyPem: ticketKey.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          consul: peerConsulSettings(swarm.pool, consul.url),
        }),
      });
      const catalog = new ConsulCatalog({
        agent: consul.url,
        pool: swarm.pool,
        peerService: peerServiceName(swarm.pool),
      });
      try {
        const instances = await Promise.all(['one', 'two', 'three'].map((name) => orchestrator.start({ name })));
        for (const instance of instances) await catalog.register(catalogEntry(instance));

        const health = async () =>
          (await (
            await fetch(`${consul.url}/v1/health/service/${peerServiceName(swarm.pool)}`)
          ).json()) as HealthEntry[];
        await expect.poll(async () => (await health()).length, { timeout: 30_000 }).toBe(3);
        for (const entry of await health()) {
          const instance = instances.find((i) => i.peerId === entry.Service.ID);
          // Reached by its service name: dnsrr resolves it to the task on the overlay network.
          expect(entry.Service).toMatchObject({ Address: instance?.address, Port: 7400 });
          expect(entry.Service.Tags).toEqual(expect.arrayContaining(['p2p-messenger', `p2pm-pool=${swarm.pool}`]));
          expect(entry.Checks.map((check) => check.Status)).toEqual(['passing', 'passing']);
        }

        const ada = await catalog.claim('ada');
        const bob = await catalog.claim('bob');
        const spare = instances.find((i) => i.peerId !== ada?.id && i.peerId !== bob?.id) as PeerInstance;
        const env: Record<string, string> = {};
        for (const [key, peer] of [
          ['ADA', ada],
          ['BOB', bob],
        ] as const) {
          env[`${key}_HOST`] = peer?.address as string;
          env[`${key}_ID`] = peer?.id as string;
          env[`${key}_TICKET`] = issueTicket(ticketKey.privateKey, {
            peerId: peer?.id as string,
            owner: key.toLowerCase(),
            ttlMs: 120_000,
          });
        }
        const chat = await runOnOverlay(swarm.docker, swarm, CHAT, env, 120_000);
        expect(chat.exitCode, chat.output).toBe(0);
        const seen = JSON.parse(chat.output.trim().split('\n').at(-1) as string) as {
          adaSaw: { id: string; sources: string[] }[];
          bobSaw: { id: string; sources: string[] }[];
          adaHistory: string[];
        };
        // Each saw the other, through Consul only, and never the spare.
        expect(seen.adaSaw).toEqual([{ id: bob?.id, sources: ['consul'] }]);
        expect(seen.bobSaw).toEqual([{ id: ada?.id, sources: ['consul'] }]);
        expect(seen.adaHistory).toEqual(['hello Bob, over the overlay', 'hello Ada']);

        await orchestrator.stop(spare.instanceId, { deleteData: true });
        await expect
          .poll(async () => (await health()).map((entry) => entry.Service.ID), { timeout: 30_000 })
          .not.toContain(spare.peerId);
      } finally {
        await catalog.close();
        await orchestrator.close();
      }
    },
    SWARM_TIMEOUT_MS,
  );
});

function catalogEntry(instance: PeerInstance) {
  const { peerId, instanceId, name, address, greetingPort, securePort, webPort, fingerprint } = instance;
  return { id: peerId, instanceId, name, address, greetingPort, securePort, webPort, fingerprint };
}
