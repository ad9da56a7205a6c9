// What `pnpm swarm:up` and `swarm:down` share: the Docker engine (its API through dockerode,
// `docker stack` through the CLI, which the API has no call for), named errors, polling.
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';

export const POOL_LABEL = 'org.p2p-messenger.pool';
export const ROLE_LABEL = 'org.p2p-messenger.role';
/** Set by `docker stack deploy` on everything it creates. */
export const STACK_LABEL = 'com.docker.stack.namespace';

/** Where swarm:up keeps a stack's admin password on this machine (the source of its Docker secret). */
export function stateDir(stack) {
  return join(homedir(), '.p2p-messenger', 'swarm', stack);
}

/** Bad flags: exit status 2. */
export class UsageError extends Error {
  name = 'UsageError';
}

/** Something about the engine or the stack that the operator has to fix: exit status 1. */
export class StackError extends Error {
  name = 'StackError';
}

/**
 * Runs `main` with the command line when `moduleUrl` is the script node was given; a
 * UsageError exits 2, any other error 1, each with its message on stderr.
 */
export async function runAsCommand(moduleUrl, main) {
  if (process.argv[1] !== fileURLToPath(moduleUrl)) return;
  await main(process.argv.slice(2)).catch((err) => {
    log(err instanceof UsageError ? `${err.message} (see --help)` : err.message);
    process.exit(err instanceof UsageError ? 2 : 1);
  });
}

export function log(line) {
  process.stderr.write(`swarm: ${line}\n`);
}

/** Where the engine is expected, for messages. */
export function engineAddress(env = process.env) {
  return env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

/** The engine, once it answers; a StackError that says how to start it otherwise. */
export async function connect() {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (err) {
    throw new StackError(
      `the Docker engine does not answer at ${engineAddress()} (${err.message}). Start it, e.g. ` +
        '"dockerd --host unix:///var/run/docker.sock >/var/log/dockerd.log 2>&1 &" ' +
        '(on Debian: apt-get install docker.io), wait until "docker info" answers, then run this again',
    );
  }
  return docker;
}

/**
 * The docker CLI with `args`; its output goes to stderr as progress. Resolves with what it
 * printed; rejects with a StackError carrying its own message.
 */
export function runDocker(args, env = process.env) {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const relay = (chunk) => {
      output += chunk;
      process.stderr.write(chunk);
    };
    child.stdout.setEncoding('utf8').on('data', relay);
    child.stderr.setEncoding('utf8').on('data', relay);
    child.once('error', (err) => {
      reject(
        new StackError(
          err.code === 'ENOENT'
            ? 'no "docker" command on the PATH: install the Docker CLI (on Debian: apt-get install docker.io)'
            : `docker ${args[0]} did not run: ${err.message}`,
        ),
      );
    });
    child.once('close', (code) => {
      if (code === 0) resolve(output);
      else reject(new StackError(`docker ${args.join(' ')} failed (exit ${code}): ${output.trim()}`));
    });
  });
}

/** Polls `check` until it returns a truthy value, or throws a StackError after `timeoutMs`. */
export async function waitUntil(check, { timeoutMs, what, intervalMs = 500 }) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new StackError(`gave up after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Removes these services and waits until none of their containers is left. */
export async function removeServices(docker, services, timeoutMs) {
  await Promise.all(
    services.map((service) =>
      docker
        .getService(service.ID)
        .remove()
        .catch((err) => {
          if (err.statusCode !== 404) throw err;
        }),
    ),
  );
  const ids = new Set(services.map((service) => service.ID));
  await waitUntil(
    async () => {
      const containers = await docker.listContainers({ all: true });
      return !containers.some((c) => ids.has(c.Labels?.['com.docker.swarm.service.id'] ?? ''));
    },
    { timeoutMs, what: `the containers of ${services.length} removed service(s) to go` },
  );
}

/** A Docker object name, as the dispatcher's --pool-name takes it (also a stack, network name). */
export const DOCKER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
