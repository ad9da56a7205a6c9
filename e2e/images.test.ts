import { readFile } from 'node:fs/promises';
import Docker from 'dockerode';
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAST_BUILD } from '../tools/docker-setup.js';

const PEER_IMAGE = 'p2p-messenger/peer:local';
const DISPATCHER_IMAGE = 'p2p-messenger/dispatcher:local';
const BRIDGE_IMAGE = 'p2p-messenger/bridge:local';

interface Built {
  image: string;
  size_mb: number;
  build_s: number;
}

const docker = new Docker();
const started: StartedTestContainer[] = [];
let built: Built[] = [];

async function run(container: GenericContainer): Promise<StartedTestContainer> {
  const running = await container.start();
  started.push(running);
  return running;
}

async function stop(container: StartedTestContainer): Promise<void> {
  started.splice(started.indexOf(container), 1);
  await container.stop({ remove: true, removeVolumes: true });
}

beforeAll(async () => {
  // The test run's global setup ran `pnpm images` and kept what it printed.
  built = (await readFile(LAST_BUILD, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Built);
});

afterAll(async () => {
  await Promise.all(started.map((container) => container.stop({ remove: true, removeVolumes: true })));
});

describe('the images', () => {
  it('are built by `pnpm images`, which prints each one’s size and build time', async () => {
    expect(built.map((b) => b.image)).toEqual([
      'p2p-messenger/node-base:local',
      PEER_IMAGE,
      DISPATCHER_IMAGE,
      BRIDGE_IMAGE,
    ]);
    for (const image of built) {
      expect(image.size_mb).toBeGreaterThan(50);
      expect(image.build_s).toBeGreaterThan(0);
    }
  });

  it('run as a non-root user, with OCI labels, a health check and their data in a volume', async () => {
    for (const name of [PEER_IMAGE, DISPATCHER_IMAGE, BRIDGE_IMAGE]) {
      const { Config } = await docker.getImage(name).inspect();
      expect(Config.User, name).toBe('1000:1000');
      expect(Config.Healthcheck?.Test?.[0], name).toBe('CMD');
      expect(Object.keys(Config.Volumes ?? {}), name).toEqual(['/data']);
      expect(Config.Labels?.['org.opencontainers.image.title'], name).toMatch(/^p2p-messenger /);
      expect(Config.Labels?.['org.opencontainers.image.revision'], name).toMatch(/^[0-9a-f]{40}$|^unknown$/);
    }
  });

  it('start a bridge that turns healthy, prints its ready line and serves /readyz and /metrics', async () => {
    const bridge = await run(
      new GenericContainer(BRIDGE_IMAGE)
        // Announcements on a port of its own: nothing else on Docker's bridge network hears them.
        .withEnvironment({ P2PM_BRIDGE_MULTICAST_FAMILY: 'ipv4', P2PM_BRIDGE_MULTICAST_PORT: '47923' })
        .withExposedPorts(9464)
        .withWaitStrategy(Wait.forHealthCheck())
        .withStartupTimeout(60_000),
    );
    const url = `http://${bridge.getHost()}:${bridge.getMappedPort(9464)}`;
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${url}/metrics`)).text()).toContain('p2pm_bridge_links_up 0');
    expect(await logsOf(bridge)).toMatch(
      /bridge [a-z2-7]{32} ready: dial only, relay on 0\.0\.0\.0:7420\/7421, 0 joins/,
    );
    await stop(bridge);
  });

  it('start a peer that turns healthy, keeps its identity in its volume, and answers only its owner', async () => {
    const volume = `p2pm-test-peer-${Date.now()}`;
    const peer = await run(
      new GenericContainer(PEER_IMAGE)
        .withEnvironment({ P2PM_NAME: 'ada' })
        .withExposedPorts(7480)
        // A named volume (not a host path): Docker creates it on first use.
        .withBindMounts([{ source: volume, target: '/data' }])
        .withWaitStrategy(Wait.forHealthCheck())
        .withStartupTimeout(60_000),
    );
    const url = `http://${peer.getHost()}:${peer.getMappedPort(7480)}`;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/api/self`)).status).toBe(401);
    const firstId = /"id":"([a-z2-7]+)"/.exec(await logsOf(peer))?.[1];
    expect(firstId).toMatch(/^[a-z2-7]{32}$/);
    const uid = await peer.exec(['node', '-e', 'process.stdout.write(String(process.getuid()))']);
    expect(uid.output).toBe('1000');
    // Production dependencies only: the app's own, no compiler or test runner.
    const lookFor = (pkg: string) =>
      `try { require.resolve('${pkg}', { paths: ['/app'] }); process.stdout.write('present') } catch { process.stdout.write('absent') }`;
    expect((await peer.exec(['node', '-e', lookFor('fastify')])).output).toBe('present');
    for (const dev of ['typescript', 'vitest', '@biomejs/biome']) {
      expect((await peer.exec(['node', '-e', lookFor(dev)])).output, dev).toBe('absent');
    }
    // Another container on the same volume is the same peer.
    await stop(peer);
    const again = await run(
      new GenericContainer(PEER_IMAGE)
        .withEnvironment({ P2PM_NAME: 'ada' })
        // A named volume (not a host path): Docker creates it on first use.
        .withBindMounts([{ source: volume, target: '/data' }])
        .withWaitStrategy(Wait.forHealthCheck())
        .withStartupTimeout(60_000),
    );
    expect(/"id":"([a-z2-7]+)"/.exec(await logsOf(again))?.[1]).toBe(firstId);
    await stop(again);
    await docker.getVolume(volume).remove();
  });

  it('start a dispatcher that turns healthy and readies its pool inside the container', async () => {
    const dispatcher = await run(
      new GenericContainer(DISPATCHER_IMAGE)
        .withEnvironment({ P2PM_POOL_TARGET: '1' })
        .withExposedPorts(8080)
        .withWaitStrategy(Wait.forHealthCheck())
        .withStartupTimeout(60_000),
    );
    const url = `http://${dispatcher.getHost()}:${dispatcher.getMappedPort(8080)}`;
    await expect.poll(async () => (await fetch(`${url}/readyz`)).status, { timeout: 30_000 }).toBe(200);
    const front = await fetch(url);
    expect(await front.text()).toContain('data-testid="guest"');
    await expect.poll(() => logsOf(dispatcher), { timeout: 30_000 }).toContain('vacant peer ready');
  });
});

/** What the container printed so far (stdout and stderr, as Docker multiplexes them). */
async function logsOf(container: StartedTestContainer): Promise<string> {
  const logs = await docker.getContainer(container.getId()).logs({ stdout: true, stderr: true, follow: false });
  return logs.toString('utf8');
}
