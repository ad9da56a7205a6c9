import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SWARM_LABELS } from '../src/index.js';
import { freePort } from './helpers/free-port.js';
import { getWithHost } from './helpers/host-get.js';
import { type TestSwarm, testSwarm } from './helpers/swarm.js';
import { type StartedTraefikStandIn, startTraefikStandIn } from './helpers/traefik-standin.js';

/** Services starting on a shared 2-core machine, and the stand-in's refresh (2 s) and throttle (1 s). */
const SWARM_TIMEOUT_MS = 120_000;
const ROUTED_MS = 30_000;

/** A backend of the test's own on the overlay network: says who it is and what it got; /events streams. */
const ECHO = `require('node:http').createServer((req, res) => {
  if (req.url === '/events') {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let n = 0;
    const timer = setInterval(() => res.write('data: ' + n++ + '\\n\\n'), 300);
    req.on('close', () => clearInterval(timer));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ name: process.env.NAME, host: req.headers.host, forwardedHost: req.headers['x-forwarded-host'], path: req.url }));
}).listen(8000);`;

let swarm: TestSwarm;
let traefik: StartedTraefikStandIn;

async function echoService(name: string, labels: Record<string, string>): Promise<void> {
  await swarm.docker.createService({
    Name: `${name}-${swarm.pool}`,
    Labels: { ...labels, [SWARM_LABELS.pool]: swarm.pool },
    TaskTemplate: {
      ContainerSpec: {
        Image: 'p2p-messenger/node-base:local',
        Command: ['/usr/bin/node', '-e', ECHO],
        Env: [`NAME=${name}`],
        Labels: { [SWARM_LABELS.pool]: swarm.pool },
      },
      Networks: [{ Target: swarm.network }],
    },
    EndpointSpec: { Mode: 'dnsrr' },
  });
}

function labelsFor(name: string, rule: string, port = '8000'): Record<string, string> {
  return {
    'traefik.enable': 'true',
    [`traefik.http.routers.${name}.rule`]: rule,
    [`traefik.http.routers.${name}.entrypoints`]: 'web',
    [`traefik.http.services.${name}.loadbalancer.server.port`]: port,
    'traefik.swarm.network': swarm.network,
  };
}

/** A GET through the stand-in's entry point with the given Host header. */
const get = (host: string, path = '/') => getWithHost(traefik.url, host, path);

const nameAt = async (host: string) => {
  const answer = await get(host);
  return answer.status === 200 ? (JSON.parse(answer.body) as { name: string }).name : answer.status;
};

beforeAll(async () => {
  swarm = await testSwarm();
  traefik = await startTraefikStandIn(swarm.docker, swarm, await freePort());
}, SWARM_TIMEOUT_MS);

afterAll(async () => {
  await swarm?.cleanup();
}, SWARM_TIMEOUT_MS);

describe('the Traefik stand-in on a real Swarm, as Traefik v3’s Swarm provider', () => {
  it(
    'answers 404 "404 page not found" for a host no router has, before and after a service is labelled',
    async () => {
      expect(await get('nobody.example.test')).toEqual({
        status: 404,
        body: '404 page not found\n',
        type: 'text/plain; charset=utf-8',
      });
      await echoService('echo', labelsFor('echo', 'Host(`echo.example.test`) || Host(`alias.example.test`)'));
      await expect.poll(() => nameAt('echo.example.test'), { timeout: ROUTED_MS, interval: 250 }).toBe('echo');
      const answer = JSON.parse((await get('ALIAS.example.test:8080', '/some/path?q=1')).body);
      expect(answer).toEqual({
        name: 'echo',
        host: 'ALIAS.example.test:8080',
        forwardedHost: 'ALIAS.example.test:8080',
        path: '/some/path?q=1',
      });
      expect((await get('nobody.example.test')).status).toBe(404);
      // The labels go: so does the route.
      const service = swarm.docker.getService(`echo-${swarm.pool}`);
      const info = await service.inspect();
      await service.update({
        _query: { version: info.Version.Index },
        _body: { ...info.Spec, Labels: { [SWARM_LABELS.pool]: swarm.pool } },
      });
      await expect.poll(() => nameAt('echo.example.test'), { timeout: ROUTED_MS, interval: 250 }).toBe(404);
      expect((await get('echo.example.test')).body).toBe('404 page not found\n');
    },
    SWARM_TIMEOUT_MS,
  );

  it(
    'routes nothing that is not enabled (exposedByDefault false) or has a label it cannot read, and says why',
    async () => {
      const { 'traefik.enable': _, ...notEnabled } = labelsFor('quiet', 'Host(`quiet.example.test`)');
      const typo = labelsFor('typo', 'Host(`typo.example.test`)');
      typo['traefik.http.services.typo.loadbalancer.server.prot'] = '8000';
      await Promise.all([
        echoService('quiet', notEnabled),
        echoService('typo', typo),
        echoService('control', labelsFor('control', 'Host(`control.example.test`)')),
      ]);
      // Once the control service routes, the other two were seen in the same rounds.
      await expect.poll(() => nameAt('control.example.test'), { timeout: ROUTED_MS, interval: 250 }).toBe('control');
      await expect
        .poll(async () => JSON.stringify(await traefik.logs()), { timeout: ROUTED_MS })
        .toContain(
          `skip service typo-${swarm.pool}: traefik.http.services.typo.loadbalancer.server.prot: field not found`,
        );
      expect(await nameAt('quiet.example.test')).toBe(404);
      expect(await nameAt('typo.example.test')).toBe(404);
    },
    SWARM_TIMEOUT_MS,
  );

  it(
    'answers 502 "Bad Gateway" when the server does not answer, and streams server-sent events as they come',
    async () => {
      await Promise.all([
        echoService('closed', labelsFor('closed', 'Host(`closed.example.test`)', '8001')),
        echoService('stream', labelsFor('stream', 'Host(`stream.example.test`)')),
      ]);
      await expect.poll(() => nameAt('stream.example.test'), { timeout: ROUTED_MS, interval: 250 }).toBe('stream');
      await expect
        .poll(() => get('closed.example.test'), { timeout: ROUTED_MS, interval: 250 })
        .toMatchObject({
          status: 502,
          body: 'Bad Gateway',
        });
      // Two events while the stream stays open: nothing waits for the end of the answer.
      const events = await new Promise<string>((resolve, reject) => {
        const req = request(`${traefik.url}/events`, { headers: { host: 'stream.example.test' } }, (res) => {
          let got = '';
          res.setEncoding('utf8').on('data', (chunk: string) => {
            got += chunk;
            if (got.split('\n\n').length > 2) {
              req.destroy();
              resolve(got);
            }
          });
        });
        req.on('error', reject);
        req.end();
      });
      expect(events).toMatch(/^data: 0\n\ndata: 1\n\n/);
    },
    SWARM_TIMEOUT_MS,
  );
});
