import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  changeServiceLabels,
  type PeerInstance,
  SWARM_LABELS,
  SwarmOrchestrator,
  TraefikRouter,
  type TraefikRouterInit,
} from '../src/index.js';
import { freePort } from './helpers/free-port.js';
import { getWithHost } from './helpers/host-get.js';
import { PEER_IMAGE, type TestSwarm, testSwarm } from './helpers/swarm.js';
import { type StartedTraefikStandIn, startTraefikStandIn } from './helpers/traefik-standin.js';

/** Peer services starting on a shared 2-core machine, then Traefik's refresh (2 s) and throttle (1 s). */
const SWARM_TIMEOUT_MS = 180_000;
const DOMAIN = 'peers.example.test';

let swarm: TestSwarm;
let traefik: StartedTraefikStandIn;
let orchestrator: SwarmOrchestrator;
let ada: PeerInstance;
let bob: PeerInstance;

function router(init: Partial<TraefikRouterInit> = {}): TraefikRouter {
  return new TraefikRouter({
    docker: swarm.docker,
    peersDomain: DOMAIN,
    entrypoints: ['web'],
    network: swarm.network,
    traefikUrl: traefik.url,
    publicUrl: 'http://chat.example.test:8443',
    log: pino({ level: 'silent' }),
    ...init,
  });
}

/** A GET through Traefik with a peer's Host header: status and body. */
async function throughTraefik(peerId: string, path: string): Promise<{ status: number; body: string }> {
  const { status, body } = await getWithHost(traefik.url, `${peerId}.${DOMAIN}:8443`, path);
  return { status, body };
}

/** The id of the task running the peer's service, and of its container. */
async function runningTask(instance: PeerInstance): Promise<string[]> {
  const tasks = await swarm.docker.listTasks({
    filters: { service: [instance.address], 'desired-state': ['running'] },
  });
  return tasks.map((task) => `${task.ID}/${task.Status?.ContainerStatus?.ContainerID}`);
}

beforeAll(async () => {
  swarm = await testSwarm();
  traefik = await startTraefikStandIn(swarm.docker, swarm, await freePort());
  orchestrator = new SwarmOrchestrator({
    docker: swarm.docker,
    image: PEER_IMAGE,
    network: swarm.network,
    pool: swarm.pool,
    startTimeoutMs: 90_000,
  });
  [ada, bob] = await Promise.all([orchestrator.start({ name: 'ada' }), orchestrator.start({ name: 'bob' })]);
}, SWARM_TIMEOUT_MS);

afterAll(async () => {
  await orchestrator?.close();
  await swarm?.cleanup();
}, SWARM_TIMEOUT_MS);

describe('TraefikRouter: a host per peer through Traefik’s Swarm provider (the stand-in), on a real Swarm', () => {
  it(
    'routes a peer: labels on its service, back once its own host answers from it, without restarting its task',
    async () => {
      const routes = router();
      expect((await throughTraefik(ada.peerId, `/p/${ada.peerId}/healthz`)).status).toBe(404);
      const before = await runningTask(ada);
      await routes.route(ada.peerId, { host: ada.address, port: ada.webPort });
      // Live when route() returns: no waiting here.
      expect(await throughTraefik(ada.peerId, `/p/${ada.peerId}/healthz`)).toEqual({
        status: 200,
        body: '{"ok":true}',
      });
      const labels = (await swarm.docker.getService(ada.address).inspect()).Spec.Labels;
      expect(labels).toMatchObject({
        'traefik.enable': 'true',
        [`traefik.http.routers.p2pm-${ada.peerId}.rule`]: `Host(\`${ada.peerId}.${DOMAIN}\`)`,
        [`traefik.http.routers.p2pm-${ada.peerId}.entrypoints`]: 'web',
        [`traefik.http.services.p2pm-${ada.peerId}.loadbalancer.server.port`]: '7480',
        'traefik.swarm.network': swarm.network,
        [SWARM_LABELS.peerId]: ada.peerId,
        [SWARM_LABELS.pool]: swarm.pool,
      });
      // A label update is no new task: the same task and container before and after.
      expect(before).toHaveLength(1);
      expect(await runningTask(ada)).toEqual(before);
      expect(routes.entryFor(ada.peerId)).toBe(`http://${ada.peerId}.${DOMAIN}:8443/p/${ada.peerId}/`);
      expect(routes.formTargets).toEqual([`http://*.${DOMAIN}:8443`]);
      // Bob is not routed yet: his host is Traefik's 404, never another peer.
      expect(await throughTraefik(bob.peerId, `/p/${bob.peerId}/healthz`)).toEqual({
        status: 404,
        body: '404 page not found\n',
      });
    },
    SWARM_TIMEOUT_MS,
  );

  it(
    'keeps each host to its own peer, and takes the route away on unroute (Traefik’s 404 once it returns)',
    async () => {
      const routes = router();
      await Promise.all([
        routes.route(ada.peerId, { host: ada.address, port: ada.webPort }),
        routes.route(bob.peerId, { host: bob.address, port: bob.webPort }),
      ]);
      expect((await throughTraefik(bob.peerId, `/p/${bob.peerId}/healthz`)).status).toBe(200);
      // Bob's host reaches Bob only: Ada's pages are not there.
      expect((await throughTraefik(bob.peerId, `/p/${ada.peerId}/healthz`)).status).toBe(404);
      await routes.unroute(ada.peerId);
      expect(await throughTraefik(ada.peerId, `/p/${ada.peerId}/healthz`)).toEqual({
        status: 404,
        body: '404 page not found\n',
      });
      const labels = (await swarm.docker.getService(ada.address).inspect()).Spec.Labels ?? {};
      expect(Object.keys(labels).filter((key) => key.startsWith('traefik.'))).toEqual([]);
      expect((await throughTraefik(bob.peerId, `/p/${bob.peerId}/healthz`)).status).toBe(200);
      // Unrouting a peer whose service is gone (or was never routed) is no error once its host is not routed.
      await router().unroute('a'.repeat(32));
    },
    SWARM_TIMEOUT_MS,
  );

  it(
    'keeps another update of the same service made meanwhile (Swarm’s "update out of sequence" is retried)',
    async () => {
      const routes = router();
      await routes.unroute(ada.peerId);
      const others = Array.from({ length: 4 }, (_, i) =>
        changeServiceLabels(swarm.docker, ada.address, (labels) => ({ ...labels, [`test.other-${i}`]: 'kept' })),
      );
      await Promise.all([routes.route(ada.peerId, { host: ada.address, port: ada.webPort }), ...others]);
      const labels = (await swarm.docker.getService(ada.address).inspect()).Spec.Labels ?? {};
      expect(labels).toMatchObject({ 'test.other-0': 'kept', 'test.other-3': 'kept', 'traefik.enable': 'true' });
      expect((await throughTraefik(ada.peerId, `/p/${ada.peerId}/healthz`)).status).toBe(200);
    },
    SWARM_TIMEOUT_MS,
  );

  it(
    'fails with RouteNotLiveError, saying what it tried, when the route never answers (an entry point misspelt)',
    async () => {
      await router().unroute(bob.peerId);
      const routes = router({ entrypoints: ['webb'], deadlineMs: 8_000 });
      const failure = await routes.route(bob.peerId, { host: bob.address, port: bob.webPort }).catch((err) => err);
      expect(failure.name).toBe('RouteNotLiveError');
      expect(failure.message).toMatch(
        new RegExp(
          `did not come to answer from the peer ${bob.peerId}.${DOMAIN} within 8000 ms: \\d+ requests for /p/${bob.peerId}/healthz with Host: ${bob.peerId}.${DOMAIN}, the last got (Traefik answered 404|no answer)`,
        ),
      );
      await expect(router().route(bob.peerId, { host: 'p2pm-peer-none', port: 7480 })).rejects.toThrow(
        /its Swarm service p2pm-peer-none does not exist/,
      );
    },
    SWARM_TIMEOUT_MS,
  );

  it(
    'never routes a service whose Traefik labels have a typo (Traefik skips the service): RouteNotLiveError',
    async () => {
      await router().unroute(bob.peerId);
      const typo = `traefik.http.services.p2pm-${bob.peerId}.loadbalancer.server.prot`;
      await changeServiceLabels(swarm.docker, bob.address, (labels) => ({ ...labels, [typo]: '7480' }));
      const failure = await router({ deadlineMs: 8_000 })
        .route(bob.peerId, { host: bob.address, port: bob.webPort })
        .catch((err) => err);
      expect(failure.name).toBe('RouteNotLiveError');
      await expect.poll(async () => JSON.stringify(await traefik.logs())).toContain(`${typo}: field not found`);
      // The typo gone, the same route goes live.
      await changeServiceLabels(swarm.docker, bob.address, ({ [typo]: _, ...labels }) => labels);
      await router().route(bob.peerId, { host: bob.address, port: bob.webPort });
      expect((await throughTraefik(bob.peerId, `/p/${bob.peerId}/healthz`)).status).toBe(200);
    },
    SWARM_TIMEOUT_MS,
  );
});
