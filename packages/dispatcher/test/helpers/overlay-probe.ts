import type Docker from 'dockerode';
import { SWARM_LABELS as LABELS } from '../../src/index.js';
import { PEER_IMAGE } from './swarm.js';

/**
 * The address by which containers on overlay networks reach this host: the gateway of
 * docker_gwbridge, the bridge that gives them their way out. A server of the test's own that
 * listens there (and only there) is reachable by the test's containers, and by nothing else
 * outside this machine.
 */
export async function hostForContainers(docker: Docker): Promise<string> {
  const bridge = await docker
    .getNetwork('docker_gwbridge')
    .inspect()
    .catch(() => null);
  const gateway = (bridge?.IPAM?.Config as { Gateway?: string }[] | undefined)?.[0]?.Gateway;
  if (!gateway) throw new Error('no docker_gwbridge with a gateway: is this engine in a Swarm?');
  return gateway;
}

/**
 * Runs an ES module script in a container of the peer image (it has Node) on the test's overlay
 * network, where the peer services' names resolve; resolves with what it printed once it ended.
 * The container carries the pool's label and is removed, with its volume, whatever happens.
 */
export async function runOnOverlay(
  docker: Docker,
  target: { network: string; pool: string },
  script: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ exitCode: number; output: string }> {
  const container = await docker.createContainer({
    Image: PEER_IMAGE,
    Entrypoint: ['node', '--input-type=module', '-e', script],
    Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
    Labels: { [LABELS.project]: 'p2p-messenger', [LABELS.pool]: target.pool, [LABELS.role]: 'test-probe' },
    // A terminal: the output comes back as written, not in Docker's multiplexed frames.
    Tty: true,
    HostConfig: { NetworkMode: target.network },
  });
  try {
    await container.start();
    const ended = container.wait() as Promise<{ StatusCode: number }>;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the probe did not end within ${timeoutMs} ms`)), timeoutMs);
    });
    const { StatusCode } = await Promise.race([ended, timedOut]).finally(() => clearTimeout(timer));
    // As a stream: read whole, the engine's answer would be parsed as JSON when it looks like JSON.
    const stream = await container.logs({ follow: true, stdout: true, stderr: true });
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
    return { exitCode: StatusCode, output: Buffer.concat(chunks).toString('utf8') };
  } finally {
    // With its anonymous volume (the image declares /data), or every probe leaves one behind.
    await container.remove({ force: true, v: true }).catch(() => {});
  }
}
