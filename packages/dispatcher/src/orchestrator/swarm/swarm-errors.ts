import { PeerStartError } from '../orchestrator.js';

/** Why a Swarm orchestrator cannot work, or a peer service did not start. Test `err.name`. */
export class SwarmError extends PeerStartError {
  override name = 'SwarmError';
}

/** The Docker engine's socket does not answer. */
export class DockerUnreachableError extends SwarmError {
  override name = 'DockerUnreachableError';
  override readonly lasting = true;
}

/** The engine answers, but is not a manager of a Swarm (`docker swarm init`, or run on a manager). */
export class NotSwarmManagerError extends SwarmError {
  override name = 'NotSwarmManagerError';
  override readonly lasting = true;
}

/** The peer image is not on this engine (no registry here, or a typo). */
export class ImageMissingError extends SwarmError {
  override name = 'ImageMissingError';
  override readonly lasting = true;
}

/** The overlay network peers join does not exist. */
export class NetworkMissingError extends SwarmError {
  override name = 'NetworkMissingError';
  override readonly lasting = true;
}

/** Swarm rejected the peer's task, or it failed before the peer was ready; the message has Swarm's reason. */
export class TaskFailedError extends SwarmError {
  override name = 'TaskFailedError';
}

/** The peer's task stayed pending (no node can take it), with Swarm's reason. */
export class TaskPendingError extends SwarmError {
  override name = 'TaskPendingError';
}

/** The engine's error as one of the above, when it is one; else as it came. */
export function swarmErrorOf(err: unknown, what: string): Error {
  const e = err as {
    code?: string;
    statusCode?: number;
    json?: { message?: string };
    message?: string;
    address?: string;
    port?: number;
  };
  const message = e.json?.message ?? e.message ?? String(err);
  if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'ECONNRESET') {
    // A socket's path, or a TCP address: where it was looked for, as DOCKER_HOST would name it.
    const at = e.address?.startsWith('/') ? `unix://${e.address}` : e.address ? `tcp://${e.address}:${e.port}` : '';
    const fix =
      e.code === 'EACCES'
        ? 'give the dispatcher access to the socket (run it in the socket’s group)'
        : 'start Docker (systemctl start docker, or dockerd), or point --docker-host (DOCKER_HOST) at the engine’s socket';
    return new DockerUnreachableError(
      `${what}: the Docker engine${at ? ` at ${at}` : ''} does not answer (${e.code}): ${fix}`,
    );
  }
  if (e.statusCode === 503 && /swarm/i.test(message)) {
    return new NotSwarmManagerError(
      `${what}: this engine is not a Swarm manager (${message}): run "docker swarm init" or run on a manager`,
    );
  }
  return err instanceof Error ? err : new SwarmError(`${what}: ${message}`);
}
