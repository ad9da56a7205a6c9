import type Docker from 'dockerode';
import { volumeName } from './service-spec.js';
import { ImageMissingError, NetworkMissingError, NotSwarmManagerError, swarmErrorOf } from './swarm-errors.js';

/**
 * The engine answers, is a Swarm manager, and has the overlay network: its id. Each failure is
 * the typed error that says what to do.
 */
export async function swarmNetworkId(docker: Docker, network: string): Promise<string> {
  const info = await docker.info().catch((err: unknown) => {
    throw swarmErrorOf(err, 'asking the engine');
  });
  if (info.Swarm?.ControlAvailable !== true) {
    throw new NotSwarmManagerError(
      `this Docker engine is not a Swarm manager (state: ${info.Swarm?.LocalNodeState ?? 'unknown'}): run "docker swarm init", or run the dispatcher on a manager`,
    );
  }
  const found = await docker
    .getNetwork(network)
    .inspect()
    .catch((err: { statusCode?: number }) => {
      if (err.statusCode === 404) {
        throw new NetworkMissingError(
          `the network ${network} does not exist: create it (docker network create --driver overlay --attachable ${network})`,
        );
      }
      throw swarmErrorOf(err, `looking up the network ${network}`);
    });
  if (found.Scope !== 'swarm') throw new NetworkMissingError(`the network ${network} is not a Swarm (overlay) network`);
  return found.Id as string;
}

/** The peer image is on this engine (a service of a missing image would wait for it for ever). */
export async function checkImage(docker: Docker, image: string): Promise<void> {
  await docker
    .getImage(image)
    .inspect()
    .catch((err: { statusCode?: number }) => {
      if (err.statusCode === 404) {
        throw new ImageMissingError(
          `the peer image ${image} is not on this engine: build it (pnpm images) or push it to the registry the nodes use`,
        );
      }
      throw swarmErrorOf(err, `looking up the image ${image}`);
    });
}

/** Only the engine's "no such volume" is a no: an engine that does not answer is an error, not a lost peer. */
export async function volumeExists(docker: Docker, instanceId: string): Promise<boolean> {
  return docker
    .getVolume(volumeName(instanceId))
    .inspect()
    .then(
      () => true,
      (err: { statusCode?: number }) => {
        if (err.statusCode === 404) return false;
        throw swarmErrorOf(err, `looking up the volume of ${instanceId}`);
      },
    );
}
