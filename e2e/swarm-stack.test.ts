import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../packages/dispatcher/test/helpers/free-port.js';
import { removePool } from '../packages/dispatcher/test/helpers/swarm.js';
import { type GuestInPeer, guestInPeer, openOwnPeer } from './helpers/guest.js';
import { runStackScript, type ScriptRun } from './helpers/stack-scripts.js';

/** Images built by the test run (tools/docker-setup.ts): swarm:up needs not build them again. */
const UP_TIMEOUT_MS = 240_000;
const docker = new Docker();
const suffix = randomBytes(4).toString('hex');
const stack = `p2pmt-${suffix}`;
const pool = `test-${suffix}`;
const network = `p2pm-test-${suffix}`;
let port = 0;
let home = '';
let url = '';

const up = () =>
  runStackScript('up', ['--no-build', '--stack', stack, '--port', String(port), '--pool', pool, '--network', network], {
    HOME: home,
  });
const down = (...more: string[]) => runStackScript('down', ['--stack', stack, ...more], { HOME: home });

function succeeded(run: ScriptRun): ScriptRun {
  if (run.code !== 0) throw new Error(`exit ${run.code}:\n${run.stderr.slice(-3_000)}`);
  return run;
}

interface Leftovers {
  services: string[];
  containers: string[];
  volumes: string[];
  networks: string[];
  configs: string[];
  secrets: string[];
}

/** Everything of the test's pool or stack that the engine still has, by kind. */
async function leftovers(): Promise<Leftovers> {
  const byPool = { label: [`org.p2p-messenger.pool=${pool}`] };
  const byStack = { label: [`com.docker.stack.namespace=${stack}`] };
  const both = async <T>(list: (filters: { label: string[] }) => Promise<T[]>, name: (item: T) => string) =>
    [...(await list(byPool)), ...(await list(byStack))].map(name);
  return {
    services: await both(
      (filters) => docker.listServices({ filters }),
      (s) => s.Spec?.Name ?? s.ID,
    ),
    containers: await both(
      (filters) => docker.listContainers({ all: true, filters }),
      (c) => c.Id,
    ),
    volumes: await both(
      async (filters) => (await docker.listVolumes({ filters })).Volumes ?? [],
      (v) => v.Name,
    ),
    networks: [
      ...(await both(
        (filters) => docker.listNetworks({ filters }),
        (n) => n.Name,
      )),
      ...(await docker.listNetworks({ filters: { name: [network] } })).map((n) => n.Name).filter((n) => n === network),
    ],
    configs: await both(
      (filters) => docker.listConfigs({ filters }),
      (c) => c.Spec?.Name ?? c.ID,
    ),
    secrets: await both(
      (filters) => docker.listSecrets({ filters }),
      (s) => s.Spec?.Name ?? s.ID,
    ),
  };
}

/** The running containers of the stack's dispatcher. */
async function dispatcherContainers(): Promise<string[]> {
  const label = [`com.docker.swarm.service.name=${stack}_dispatcher`];
  return (await docker.listContainers({ filters: { label, status: ['running'] } })).map((c) => c.Id);
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'p2pm-swarm-up-'));
  port = await freePort();
  url = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  // Whatever a failed test left: the script under test first, then by label, without it.
  await down('--purge', '--pool', pool).catch(() => {});
  await removePool(docker, pool).catch(() => {});
  await docker
    .getNetwork(network)
    .remove()
    .catch(() => {});
  await rm(home, { recursive: true, force: true });
}, UP_TIMEOUT_MS);

describe('pnpm swarm:up and swarm:down on this machine', () => {
  let guest: GuestInPeer;

  it(
    'swarm:up deploys the stack and says where to go; a guest lands in a peer served through the dispatcher',
    async () => {
      const { stdout, stderr } = succeeded(await up());
      expect(stderr).toContain('dispatcher task:');
      expect(stdout).toContain(`open         ${url}/`);
      const passwordFile = join(home, '.p2p-messenger', 'swarm', stack, 'admin-password');
      expect(stdout).toContain(`password in ${passwordFile}`);
      expect((await stat(passwordFile)).mode & 0o777).toBe(0o600);
      // The admin password is the one the dispatcher reads from its Docker secret.
      const password = (await readFile(passwordFile, 'utf8')).trim();
      const admin = await fetch(`${url}/admin/api/peers`, {
        headers: { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` },
      });
      expect(admin.status).toBe(200);
      guest = await guestInPeer(url);
      const page = await guest.web.get(`/p/${guest.peerId}/api/self`);
      expect(await page.json()).toMatchObject({ id: guest.peerId });
      // The peer is a Swarm service of the test's pool, on the test's network.
      const peers = await docker.listServices({
        filters: { label: [`org.p2p-messenger.pool=${pool}`, 'org.p2p-messenger.role=peer'] },
      });
      expect(peers.length).toBeGreaterThanOrEqual(1);
      const [net] = await docker.listNetworks({ filters: { name: [network] } });
      expect(net?.Attachable).toBe(true);
      // Again: the stack is updated in place (its own port is no obstacle), the dispatcher left running.
      const running = await dispatcherContainers();
      succeeded(await up());
      expect(await dispatcherContainers()).toEqual(running);
    },
    UP_TIMEOUT_MS,
  );

  it(
    'swarm:down keeps users’ volumes, and the next swarm:up brings the guest back into the same peer',
    async () => {
      const { stdout } = succeeded(await down());
      expect(stdout).toMatch(/kept: [1-9]\d* volume/);
      const after = await leftovers();
      expect({ services: after.services, containers: after.containers, networks: after.networks }).toEqual({
        services: [],
        containers: [],
        networks: [],
      });
      expect(after.volumes).toContain(`${stack}_dispatcher-data`);
      expect(after.volumes.some((v) => v.startsWith('p2pm-peer-'))).toBe(true);
      succeeded(await up());
      // The same session cookie, the same peer: its identity was in its volume.
      await expect.poll(() => openOwnPeer(guest), { timeout: 120_000, interval: 1_000 }).toBe(200);
    },
    UP_TIMEOUT_MS * 2,
  );

  it(
    'swarm:down --purge leaves no service, container, volume, network, config or secret of the test',
    async () => {
      const { stdout } = succeeded(await down('--purge'));
      expect(stdout).toContain('purged');
      expect(await leftovers()).toEqual({
        services: [],
        containers: [],
        volumes: [],
        networks: [],
        configs: [],
        secrets: [],
      });
      await expect(stat(join(home, '.p2p-messenger', 'swarm', stack))).rejects.toThrow();
    },
    UP_TIMEOUT_MS,
  );
});

describe('pnpm swarm:up refuses what it cannot do, and says why', () => {
  const refused = async (args: string[], env: Record<string, string> = {}) => {
    const run = await runStackScript('up', ['--no-build', '--stack', `${stack}-x`, ...args], { HOME: home, ...env });
    // Nothing was deployed.
    expect(await docker.listServices({ filters: { label: [`com.docker.stack.namespace=${stack}-x`] } })).toEqual([]);
    return run;
  };

  it('a port in use', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '0.0.0.0', resolve));
    const taken = (busy.address() as { port: number }).port;
    try {
      const run = await refused(['--port', String(taken)]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`port ${taken} is in use on this host: pass --port`);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });

  it('a missing image', async () => {
    const run = await refused(['--port', String(await freePort())], {
      DISPATCHER_IMAGE: `p2p-messenger/missing-${suffix}:local`,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `the image p2p-messenger/missing-${suffix}:local is missing: build it with "pnpm images"`,
    );
  });

  it('no Docker engine', async () => {
    const run = await refused([], { DOCKER_HOST: `unix://${join(home, 'no-docker.sock')}` });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('the Docker engine does not answer');
    expect(run.stderr).toContain('dockerd --host unix:///var/run/docker.sock');
  });

  it('a flag it does not know, or a bad value', async () => {
    const unknown = await refused(['--prot', '8080']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--prot'");
    const bad = await refused(['--port', '80808']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--port must be a port number 1-65535');
  });
});
