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

async function guestInPeer(): Promise<InPeer> {
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

interface InPeer {
  web: WebClient;
  peerId: string;
}

async function peersOf(user: InPeer): Promise<string[]> {
  return ((await (await user.web.get(`/p/${user.peerId}/api/peers`)).json()) as { id: string }[]).map((p) => p.id);
}

function send(from: InPeer, to: string, text: string): Promise<Response> {
  return fetch(`${url}/p/${from.peerId}/api/send`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: from.web.cookieHeader(`/p/${from.peerId}/`) },
    body: JSON.stringify({ peerId: to, text }),
  });
}

async function history(user: InPeer, other: string): Promise<string[]> {
  const response = await user.web.get(`/p/${user.peerId}/api/history/${other}`);
  if (response.status !== 200) return [];
  return ((await response.json()) as { text: string }[]).map((m) => m.text);
}

async function peerServiceIds(): Promise<string[]> {
  const services = await swarm.docker.listServices({
    filters: { label: [`org.p2p-messenger.pool=${swarm.pool}`, 'org.p2p-messenger.role=peer'] },
  });
  return services.map((service) => service.ID).sort();
}

/** The running container of each peer service of the test. */
async function peerContainers(): Promise<string[]> {
  const ids = await Promise.all(
    (await peerServiceIds()).map(async (serviceId) => {
      const [container] = await swarm.docker.listContainers({
        filters: { label: [`com.docker.swarm.service.id=${serviceId}`] },
      });
      return container?.Id;
    }),
  );
  return ids.filter((id): id is string => id !== undefined);
}

async function settledPeerServices(): Promise<string[]> {
  let last = await peerServiceIds();
  for (let stable = 0; stable < 3; ) {
    await sleep(1_000);
    const now = await peerServiceIds();
    stable = now.join() === last.join() ? stable + 1 : 0;
    last = now;
  }
  return last;
}

/** docker kill of the container that runs this peer: Swarm starts another task on the same volume. */
async function killPeerContainer(peerId: string): Promise<void> {
  for (const id of await peerContainers()) {
    const logs = (await swarm.docker.getContainer(id).logs({ stdout: true, stderr: false })).toString();
    if (logs.includes(`"id":"${peerId}"`)) return void (await swarm.docker.getContainer(id).kill());
  }
  throw new Error(`no running container of peer ${peerId}`);
}

/** The id of the dispatcher's running container, or null while there is none. */
async function dispatcherContainer(): Promise<string | null> {
  const [container] = await swarm.docker.listContainers({
    filters: { label: [`com.docker.swarm.service.name=p2pm-dispatcher-${swarm.pool}`], status: ['running'] },
  });
  return container?.Id ?? null;
}

/** /go, then the ticket it hands out: the status the peer's page answers (0: no ticket yet). */
async function openPeer(user: InPeer): Promise<number> {
  const location = (await user.web.get('/go')).headers.get('location') ?? '';
  if (TICKET_PATH.exec(location)?.[1] !== user.peerId) return 0;
  return (await user.web.follow(await user.web.get(location))).response.status;
}

/** Ready: its port answers and every peer of its catalog is back. */
async function waitReady(): Promise<void> {
  const until = Date.now() + 90_000;
  while ((await fetch(`${url}/readyz`).catch(() => null))?.status !== 200) {
    if (Date.now() > until) throw new Error(`the dispatcher service did not get ready at ${url}`);
    await sleep(500);
  }
}

beforeAll(async () => {
  swarm = await testSwarm();
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  await deployDispatcher(port);
  await waitReady();
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
      expect((await peerServiceIds()).length).toBeGreaterThanOrEqual(2);
      // Each finds the other through the dispatcher's catalog, over the overlay network.
      await expect.poll(() => peersOf(ada), { timeout: 60_000 }).toContain(bob.peerId);
      expect((await send(ada, bob.peerId, 'hello from ada')).status).toBe(200);
      await expect.poll(() => history(bob, ada.peerId), { timeout: 60_000 }).toEqual(['hello from ada']);
      expect((await send(bob, ada.peerId, 'hello from bob')).status).toBe(200);
      await expect
        .poll(() => history(ada, bob.peerId), { timeout: 60_000 })
        .toEqual(['hello from ada', 'hello from bob']);
    },
    SWARM_TIMEOUT_MS,
  );

  it(
    'brings a killed peer container back as the same peer with its history; messages sent meanwhile arrive once',
    async () => {
      const [ada, bob] = [await guestInPeer(), await guestInPeer()];
      await expect.poll(() => peersOf(ada), { timeout: 60_000 }).toContain(bob.peerId);
      expect((await send(ada, bob.peerId, 'before the kill')).status).toBe(200);
      await expect.poll(() => history(bob, ada.peerId), { timeout: 60_000 }).toEqual(['before the kill']);
      await killPeerContainer(bob.peerId);
      // While Bob's peer is down (and as it comes back), Ada writes; it waits in her outbox.
      expect((await send(ada, bob.peerId, 'while you were down')).status).toBe(200);
      // Bob's peer is back with the same id: a new ticket (its sessions were in memory) opens it.
      await expect.poll(() => openPeer(bob), { timeout: 90_000, interval: 1_000 }).toBe(200);
      await expect
        .poll(() => history(bob, ada.peerId), { timeout: 90_000 })
        .toEqual(['before the kill', 'while you were down']);
    },
    SWARM_TIMEOUT_MS,
  );

  it(
    'after a restart of the dispatcher service, users are still logged in, in the same peers, none started twice',
    async () => {
      const ada = await guestInPeer();
      // Once the pool has refilled after Ada's claim: the peer services, stable for a few seconds.
      const before = await settledPeerServices();
      const oldContainer = await dispatcherContainer();
      const dispatcher = swarm.docker.getService(`p2pm-dispatcher-${swarm.pool}`);
      const spec = (await dispatcher.inspect()) as {
        Version: { Index: number };
        Spec: Record<string, unknown> & { TaskTemplate: { ForceUpdate?: number } };
      };
      await dispatcher.update({
        version: spec.Version.Index,
        ...spec.Spec,
        TaskTemplate: { ...spec.Spec.TaskTemplate, ForceUpdate: (spec.Spec.TaskTemplate.ForceUpdate ?? 0) + 1 },
      });
      // A new task of the dispatcher, ready.
      const until = Date.now() + 90_000;
      while ([oldContainer, null].includes(await dispatcherContainer())) {
        if (Date.now() > until) throw new Error('the dispatcher service was not restarted');
        await sleep(500);
      }
      await waitReady();
      // The same session cookie leads to the same peer, which kept running.
      await expect.poll(() => openPeer(ada), { timeout: 60_000, interval: 1_000 }).toBe(200);
      expect(await (await ada.web.get(`/p/${ada.peerId}/api/self`)).json()).toMatchObject({ id: ada.peerId });
      // The same services: adopted, none started again (a start cut short by the restart is removed).
      await expect.poll(peerServiceIds, { timeout: 30_000 }).toEqual(before);
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
