import { stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removePool, type TestSwarm, testSwarm } from '../packages/dispatcher/test/helpers/swarm.js';
import { WebClient } from '../packages/dispatcher/test/helpers/web-client.js';

const DISPATCHER_IMAGE = 'p2p-messenger/dispatcher:local';
/** A dispatcher service and peer services starting on a shared 2-core machine. */
const SWARM_TIMEOUT_MS = 180_000;
const TICKET_PATH = /^\/p\/([a-z2-7]{32})\/login\?ticket=[\w.%-]+$/;

let swarm: TestSwarm;
let url = '';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The dispatcher as a Swarm service on a manager, with the Docker socket (in the socket's
 * group, not as root), peers as Swarm services on the overlay network, its port published on
 * this host (mode host: the ingress mesh needs IPVS, which this kernel lacks).
 */
async function deployDispatcher(port: number): Promise<void> {
  const name = `p2pm-dispatcher-${swarm.pool}`;
  const socketGroup = String((await stat('/var/run/docker.sock')).gid);
  await swarm.docker.createService({
    Name: name,
    Labels: { 'org.p2p-messenger.pool': swarm.pool, 'org.p2p-messenger.role': 'dispatcher' },
    TaskTemplate: {
      ContainerSpec: {
        Image: DISPATCHER_IMAGE,
        Labels: { 'org.p2p-messenger.pool': swarm.pool },
        Groups: [socketGroup],
        Env: [
          'P2PM_ORCHESTRATOR=swarm',
          `P2PM_SWARM_NETWORK=${swarm.network}`,
          `P2PM_POOL_NAME=${swarm.pool}`,
          `P2PM_ADVERTISE_URL=http://${name}:8080`,
          `P2PM_PUBLIC_URL=http://127.0.0.1:${port}`,
          'P2PM_POOL_TARGET=2',
        ],
        Mounts: [
          { Type: 'bind', Source: '/var/run/docker.sock', Target: '/var/run/docker.sock' },
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
      Ports: [{ Protocol: 'tcp', TargetPort: 8080, PublishedPort: port, PublishMode: 'host' }],
    },
  });
}

async function guestInPeer(): Promise<{ web: WebClient; peerId: string }> {
  const web = new WebClient(url);
  const login = await web.post('/guest', { _csrf: await web.csrf() });
  expect(login.status).toBe(303);
  let location = login.headers.get('location') ?? '';
  if (location === '/starting') {
    await expect
      .poll(async () => (await web.get('/go')).headers.get('location') ?? '', { timeout: 60_000, interval: 500 })
      .toMatch(TICKET_PATH);
    location = (await web.get('/go')).headers.get('location') ?? '';
  }
  const peerId = TICKET_PATH.exec(location)?.[1] as string;
  const { response } = await web.follow(await web.get(location));
  expect(response.status).toBe(200);
  return { web, peerId };
}

beforeAll(async () => {
  swarm = await testSwarm();
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  await deployDispatcher(port);
  // Ready: its port answers and every peer of its catalog is back.
  const until = Date.now() + 90_000;
  while ((await fetch(`${url}/readyz`).catch(() => null))?.status !== 200) {
    if (Date.now() > until) throw new Error(`the dispatcher service did not get ready at ${url}`);
    await sleep(500);
  }
}, SWARM_TIMEOUT_MS);

afterAll(async () => {
  await swarm?.cleanup();
}, SWARM_TIMEOUT_MS);

describe('the dispatcher as a Swarm service, each user’s peer a Swarm service', () => {
  it(
    'two guests each land in a peer service of their own and chat both ways through the dispatcher',
    async () => {
      const [ada, bob] = [await guestInPeer(), await guestInPeer()];
      expect(ada.peerId).not.toBe(bob.peerId);
      const services = await swarm.docker.listServices({
        filters: { label: [`org.p2p-messenger.pool=${swarm.pool}`, 'org.p2p-messenger.role=peer'] },
      });
      expect(services.length).toBeGreaterThanOrEqual(2);
      // Each finds the other through the dispatcher's catalog, over the overlay network.
      const peersOf = async (user: { web: WebClient; peerId: string }) =>
        ((await (await user.web.get(`/p/${user.peerId}/api/peers`)).json()) as { id: string }[]).map((p) => p.id);
      await expect.poll(() => peersOf(ada), { timeout: 60_000 }).toContain(bob.peerId);
      const send = (from: { web: WebClient; peerId: string }, to: string, text: string) =>
        fetch(`${url}/p/${from.peerId}/api/send`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie: from.web.cookieHeader(`/p/${from.peerId}/`) },
          body: JSON.stringify({ peerId: to, text }),
        });
      expect((await send(ada, bob.peerId, 'hello from ada')).status).toBe(200);
      const history = async (user: { web: WebClient; peerId: string }, other: string) =>
        ((await (await user.web.get(`/p/${user.peerId}/api/history/${other}`)).json()) as { text: string }[]).map(
          (m) => m.text,
        );
      await expect.poll(() => history(bob, ada.peerId), { timeout: 60_000 }).toEqual(['hello from ada']);
      expect((await send(bob, ada.peerId, 'hello from bob')).status).toBe(200);
      await expect
        .poll(() => history(ada, bob.peerId), { timeout: 60_000 })
        .toEqual(['hello from ada', 'hello from bob']);
    },
    SWARM_TIMEOUT_MS,
  );

  it(
    'leaves nothing of the test behind once removed',
    async () => {
      await removePool(swarm.docker, swarm.pool);
      const label = [`org.p2p-messenger.pool=${swarm.pool}`];
      expect(await swarm.docker.listServices({ filters: { label } })).toEqual([]);
      expect(await swarm.docker.listContainers({ all: true, filters: { label } })).toEqual([]);
      expect((await swarm.docker.listVolumes({ filters: { label } })).Volumes ?? []).toEqual([]);
      expect(await swarm.docker.listSecrets({ filters: { label } })).toEqual([]);
      expect(await swarm.docker.listConfigs({ filters: { label } })).toEqual([]);
    },
    SWARM_TIMEOUT_MS,
  );
});
