import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { LABELS } from '../orchestrator/swarm/service-spec.js';
import { AdminApi } from './admin-api.js';
import type { BenchSwarm } from './bench-swarm.js';

export const DISPATCHER_IMAGE = 'p2p-messenger/dispatcher:local';
const SOCKET = '/var/run/docker.sock';
const READY_TIMEOUT_MS = 120_000;

export interface DispatcherServiceInit {
  /** Vacant peers to keep, peer services started at once, users that may wait. */
  pool: number;
  maxStarts: number;
  maxWaiting: number;
}

/** A port this host does not use now (the service publishes it in host mode). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The dispatcher as an operator runs it in a Swarm: a service on a manager with the engine's
 * socket (in the socket's group), peer services on the benchmark's overlay network, its port
 * published on this host (host mode: no ingress mesh without IPVS). The admin password comes
 * as a Docker secret, so that the benchmark can use the admin API.
 */
export async function deployDispatcherService(
  place: BenchSwarm,
  init: DispatcherServiceInit,
): Promise<{ url: string; admin: AdminApi; name: string }> {
  const name = `p2pm-dispatcher-${place.pool}`;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const password = randomBytes(12).toString('base64url');
  const secretId = await place.secret('admin-password', password);
  const env = {
    P2PM_ORCHESTRATOR: 'swarm',
    P2PM_SWARM_NETWORK: place.network,
    P2PM_POOL_NAME: place.pool,
    P2PM_ADVERTISE_URL: `http://${name}:8080`,
    P2PM_PUBLIC_URL: url,
    P2PM_POOL_TARGET: String(init.pool),
    P2PM_MAX_STARTS: String(init.maxStarts),
    P2PM_MAX_WAITING: String(init.maxWaiting),
    P2PM_ADMIN_PASSWORD_FILE: '/run/secrets/admin-password',
    P2PM_LOG_LEVEL: 'warn',
  };
  const labels = { ...place.labels, [LABELS.role]: 'dispatcher' };
  await place.docker.createService({
    Name: name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: DISPATCHER_IMAGE,
        Labels: labels,
        Groups: [String((await stat(SOCKET)).gid)],
        Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
        Secrets: [
          {
            SecretID: secretId,
            SecretName: `${place.pool}-admin-password`,
            File: { Name: 'admin-password', UID: '1000', GID: '1000', Mode: 0o400 },
          },
        ],
        // The image checks every 5 s with 3 s to answer, by starting a Node process: on a machine
        // loaded by hundreds of peers starting, that fails, and Swarm replaces a working dispatcher.
        HealthCheck: { Interval: 30e9, Timeout: 20e9, StartPeriod: 30e9, Retries: 3 },
        Mounts: [
          { Type: 'bind', Source: SOCKET, Target: SOCKET },
          {
            Type: 'volume',
            Source: `${name}-data`,
            Target: '/data',
            VolumeOptions: { NoCopy: false, Labels: labels, DriverConfig: { Name: 'local', Options: {} } },
          },
        ],
      },
      Placement: { Constraints: ['node.role==manager'] },
      Networks: [{ Target: place.network }],
    },
    EndpointSpec: { Mode: 'dnsrr', Ports: [{ TargetPort: 8080, PublishedPort: port, PublishMode: 'host' }] },
  });
  const until = performance.now() + READY_TIMEOUT_MS;
  while ((await fetch(`${url}/readyz`).catch(() => null))?.status !== 200) {
    if (performance.now() > until) throw new Error(`the dispatcher service did not get ready at ${url}`);
    await delay(250);
  }
  return { url, name, admin: new AdminApi(Promise.resolve({ url, authorization: AdminApi.basic('admin', password) })) };
}

/** The last lines the dispatcher service wrote (to tell why a run failed). */
export async function dispatcherLogTail(place: BenchSwarm, lines = 30): Promise<string> {
  const logs = (await place.docker
    .getService(`p2pm-dispatcher-${place.pool}`)
    .logs({ stdout: true, stderr: true, tail: lines })
    .catch(() => null)) as unknown as Buffer | null;
  if (!logs) return '(no logs)';
  // Multiplexed: frames of an 8-byte header (stream, size) and the payload.
  let text = '';
  for (let at = 0; at + 8 <= logs.length; at += 8 + logs.readUInt32BE(at + 4)) {
    text += logs.subarray(at + 8, at + 8 + logs.readUInt32BE(at + 4)).toString('utf8');
  }
  return text;
}
