import { DispatcherConfigError } from '../errors.js';
import type { Setting } from './setting-values.js';

/** Where the dispatcher reaches the Docker engine: its unix socket, or a plain TCP address. */
export type DockerEngineAddress =
  | { readonly socketPath: string }
  | { readonly host: string; readonly port: number; readonly protocol: 'http' };

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/**
 * DOCKER_HOST's forms that the dispatcher takes: `unix:///path` (or a bare absolute path) and
 * `tcp://host:port`. TLS and ssh are refused rather than silently ignored: on a manager the
 * dispatcher is given the engine's socket.
 */
export function dockerEngineOf(setting: Setting | undefined): DockerEngineAddress {
  if (!setting) return Object.freeze({ socketPath: DEFAULT_DOCKER_SOCKET });
  const value = setting.value.trim();
  if (value.startsWith('/')) return Object.freeze({ socketPath: value });
  if (value.startsWith('unix://')) {
    const socketPath = value.slice('unix://'.length);
    if (socketPath.startsWith('/')) return Object.freeze({ socketPath });
  }
  const tcp = /^tcp:\/\/([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})\/?$/.exec(value);
  const port = Number(tcp?.[2]);
  if (tcp?.[1] && port >= 1 && port <= 65_535) {
    return Object.freeze({ host: tcp[1].replace(/^\[|\]$/g, ''), port, protocol: 'http' });
  }
  throw new DispatcherConfigError(
    `${setting.from} must be the Docker engine's socket (unix:///var/run/docker.sock) or tcp://host:port, got ${JSON.stringify(setting.value)}`,
  );
}
