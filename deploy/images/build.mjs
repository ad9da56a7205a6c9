#!/usr/bin/env node
// `pnpm images`: builds the images of the apps (after `pnpm build`) on this machine's Docker
// engine, from a base made of this machine's Node, so that no registry is needed. Prints one
// JSON line per image on stdout (size, build time), progress on stderr.
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { buildImage } from './docker-build.mjs';
import { buildLocalBase, LOCAL_BASE } from './local-base.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const work = join(root, '.images');

/** Each app: its package, its Dockerfile, and the image it becomes. */
export const APPS = [
  { name: 'peer', pkg: '@p2p-messenger/peer', dockerfile: 'peer.Dockerfile', image: 'p2p-messenger/peer:local' },
  {
    name: 'dispatcher',
    pkg: '@p2p-messenger/dispatcher',
    dockerfile: 'dispatcher.Dockerfile',
    image: 'p2p-messenger/dispatcher:local',
  },
  {
    name: 'bridge',
    pkg: '@p2p-messenger/bridge',
    dockerfile: 'bridge.Dockerfile',
    image: 'p2p-messenger/bridge:local',
  },
];

/** Parts of better-sqlite3 that only its compilation needs. */
const BUILD_LEFTOVERS = [
  'deps',
  'src',
  'build/Release/obj',
  'build/Release/obj.target',
  'build/Release/test_extension.node',
];

function log(line) {
  process.stderr.write(`images: ${line}\n`);
}

/** The app with its production dependencies only, in `<dir>/app`, and an empty `<dir>/data`. */
async function prepare(app, dir) {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'data'), { recursive: true });
  execFileSync('pnpm', ['--filter', app.pkg, 'deploy', '--prod', '--legacy', join(dir, 'app')], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const sqlite = join(dir, 'app', 'node_modules', 'better-sqlite3');
  const real = execFileSync('readlink', ['-f', sqlite], { encoding: 'utf8' }).trim();
  for (const leftover of BUILD_LEFTOVERS) await rm(join(real, leftover), { recursive: true, force: true });
  await cp(join(root, 'deploy', 'images', app.dockerfile), join(dir, 'Dockerfile'));
}

function revision() {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main() {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (err) {
    log(`the Docker engine does not answer (${err.message}): start dockerd (see deploy/images/README.md)`);
    process.exit(1);
  }
  const version = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')).version ?? '0.1.0';
  const started = performance.now();
  await buildLocalBase(docker, join(work, 'base'), log);
  const baseSeconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify(await figures(docker, LOCAL_BASE, baseSeconds))}\n`);
  for (const app of APPS) {
    const begun = performance.now();
    const dir = join(work, app.name);
    log(`${app.image}: preparing the app (pnpm deploy --prod)`);
    await prepare(app, dir);
    await buildImage(
      docker,
      dir,
      {
        t: app.image,
        target: 'local',
        buildargs: {
          NODE_IMAGE: LOCAL_BASE,
          VERSION: version,
          REVISION: revision(),
          CREATED: new Date().toISOString(),
        },
      },
      log,
    );
    const seconds = (performance.now() - begun) / 1000;
    process.stdout.write(`${JSON.stringify(await figures(docker, app.image, seconds))}\n`);
  }
  await writeFile(join(work, 'built'), `${new Date().toISOString()}\n`);
}

async function figures(docker, image, seconds) {
  const { Size } = await docker.getImage(image).inspect();
  const sizeMb = Math.round(Size / 1e5) / 10;
  log(`${image}: ${sizeMb} MB, built in ${seconds.toFixed(1)} s`);
  return { image, size_mb: sizeMb, build_s: Math.round(seconds * 10) / 10 };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main().catch((err) => {
    log(err.message);
    process.exit(1);
  });
}
