#!/usr/bin/env node
// `pnpm swarm:up`: the cloud mode on this one machine. Builds the local images (pnpm images),
// makes a single-node Swarm if the engine is in none, deploys stack.local.yml and waits until
// the dispatcher is ready; then prints where to open it. Progress on stderr.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, log, runAsCommand, runDocker, StackError, stateDir, waitUntil } from './engine.mjs';
import { parseFlags, UP_FLAGS, usage } from './flags.mjs';
import { buildImages } from './images.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const STACK_FILE = join(here, 'stack.local.yml');
const SOCKET = '/var/run/docker.sock';

/** A single-node Swarm on loopback if the engine is in none; an error if it is only a worker. */
async function ensureSwarm(docker) {
  const { Swarm } = await docker.info();
  if (Swarm?.LocalNodeState === 'inactive') {
    log('the engine is in no Swarm: making a single-node one (advertise 127.0.0.1)');
    await docker.swarmInit({ ListenAddr: '127.0.0.1:2377', AdvertiseAddr: '127.0.0.1:2377' });
    return;
  }
  if (Swarm?.LocalNodeState !== 'active') {
    throw new StackError(
      `the engine's Swarm is ${Swarm?.LocalNodeState}: see "docker info", or leave it and run this again`,
    );
  }
  if (!Swarm.ControlAvailable) {
    throw new StackError('this engine is a Swarm worker: run swarm:up on a manager (docker node ls lists them)');
  }
}

async function ensureImages(docker, images) {
  for (const image of images) {
    const found = await docker
      .getImage(image)
      .inspect()
      .catch(() => null);
    if (!found) {
      throw new StackError(
        `the image ${image} is missing: build it with "pnpm images" (or run swarm:up without --no-build)`,
      );
    }
  }
}

/** The port this host publishes the dispatcher on is free, unless the stack's own dispatcher holds it. */
async function ensurePortFree(docker, stack, port) {
  const [current] = await docker.listServices({ filters: { name: [`${stack}_dispatcher`] } });
  const published = current?.Endpoint?.Spec?.Ports ?? current?.Spec?.EndpointSpec?.Ports ?? [];
  if (published.some((p) => p.PublishedPort === port)) return;
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new StackError(`port ${port} is in use on this host: pass --port with a free one (or stop what uses it)`)
          : err,
      ),
    );
    server.listen(port, '0.0.0.0', resolve);
  });
  await new Promise((resolve) => server.close(resolve));
}

/** The admin password, made once per stack (mode 0600); the stack turns it into a Docker secret. */
async function adminPasswordFile(stack) {
  const dir = stateDir(stack);
  const file = join(dir, 'admin-password');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const existing = await readFile(file, 'utf8').catch(() => '');
  if (!existing.trim()) await writeFile(file, `${randomBytes(12).toString('base64url')}\n`, { mode: 0o600 });
  return file;
}

/** Polls /readyz; on stderr, each new state of the dispatcher's task (and Swarm's error, if any). */
async function waitReady(docker, stack, url, timeoutMs) {
  let shown = '';
  await waitUntil(
    async () => {
      const tasks = await docker.listTasks({ filters: { service: [`${stack}_dispatcher`] } });
      const latest = tasks.sort((a, b) => Date.parse(b.CreatedAt) - Date.parse(a.CreatedAt))[0];
      const state = latest
        ? `${latest.Status?.State}${latest.Status?.Err ? ` (${latest.Status.Err})` : ''}`
        : 'none yet';
      if (state !== shown) {
        shown = state;
        log(`dispatcher task: ${state}`);
      }
      const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(() => null);
      await response?.body?.cancel();
      return response?.status === 200;
    },
    { timeoutMs, what: `the dispatcher to answer ${url}/readyz (see: docker service ps ${stack}_dispatcher)` },
  );
}

async function main(argv) {
  const flags = parseFlags(argv, UP_FLAGS);
  if (flags.help) return void process.stdout.write(usage('up', UP_FLAGS));
  const dispatcherImage = process.env.DISPATCHER_IMAGE || 'p2p-messenger/dispatcher:local';
  const peerImage = process.env.PEER_IMAGE || 'p2p-messenger/peer:local';
  const docker = await connect();
  if (!flags['no-build']) await buildImages();
  await ensureImages(docker, [dispatcherImage, peerImage]);
  await ensureSwarm(docker);
  await ensurePortFree(docker, flags.stack, flags.port);
  const passwordFile = await adminPasswordFile(flags.stack);
  const socketGroup = (await stat(SOCKET).catch(() => null))?.gid;
  if (socketGroup === undefined) throw new StackError(`no Docker socket at ${SOCKET}: the dispatcher needs it`);
  log(`deploying ${STACK_FILE} as the stack ${flags.stack}`);
  await runDocker(['stack', 'deploy', '--resolve-image', 'never', '-c', STACK_FILE, flags.stack], {
    ...process.env,
    PUBLISHED_PORT: String(flags.port),
    POOL_NAME: flags.pool,
    PEERS_NETWORK: flags.network,
    DOCKER_GID: String(socketGroup),
    ADMIN_PASSWORD_FILE: passwordFile,
    DISPATCHER_IMAGE: dispatcherImage,
    PEER_IMAGE: peerImage,
  });
  const url = `http://127.0.0.1:${flags.port}`;
  await waitReady(docker, flags.stack, url, flags.timeoutMs);
  process.stdout.write(
    [
      `p2p-messenger is up: stack ${flags.stack}, pool ${flags.pool}, network ${flags.network}`,
      `  open         ${url}/`,
      `  admin        ${url}/admin (user admin, password in ${passwordFile})`,
      `  peers        docker service ls --filter label=org.p2p-messenger.pool=${flags.pool}`,
      `  remove       pnpm swarm:down${flags.stack === 'p2pm' ? '' : ` --stack ${flags.stack}`} (users' volumes are kept; --purge removes them)`,
      '',
    ].join('\n'),
  );
}

await runAsCommand(import.meta.url, main);
