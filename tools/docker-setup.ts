import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** What `pnpm images` printed in this run, for the tests of the images to read. */
export const LAST_BUILD = join(ROOT, '.images', 'last-build.jsonl');
const BUILD_LOCK = join(ROOT, '.images', 'build.lock');

/**
 * Before any test, on the local Docker engine: `pnpm images` (the build is already done), so
 * that the tests of the images and of Swarm run the images of this very tree; and a
 * single-node Swarm on loopback if the engine is in none, left again after the run.
 */
export default async function dockerSetup(): Promise<() => Promise<void>> {
  await buildImages();
  const docker = new Docker();
  const made = (await docker.info()).Swarm?.LocalNodeState !== 'active';
  if (made) await docker.swarmInit({ ListenAddr: '127.0.0.1:2377', AdvertiseAddr: '127.0.0.1:2377' });
  return async () => {
    if (made) await docker.swarmLeave({ force: true });
  };
}

/** The newest modification time of the files the images are made of. */
async function newestInput(): Promise<number> {
  const roots = [join(ROOT, 'deploy', 'images'), join(ROOT, 'pnpm-lock.yaml')];
  for (const pkg of await readdir(join(ROOT, 'packages'))) roots.push(join(ROOT, 'packages', pkg, 'dist'));
  let newest = 0;
  for (const root of roots) {
    const info = await stat(root).catch(() => null);
    if (!info) continue;
    const files = info.isDirectory() ? await readdir(root, { recursive: true }) : [''];
    for (const file of files) newest = Math.max(newest, (await stat(join(root, file))).mtimeMs);
  }
  return newest;
}

/** Images built after their last input changed, and still on the engine: no need to build again. */
async function upToDate(docker: Docker): Promise<boolean> {
  const built = await stat(LAST_BUILD).catch(() => null);
  if (!built || built.mtimeMs < (await newestInput())) return false;
  const lines = (await readFile(LAST_BUILD, 'utf8')).split('\n').filter(Boolean);
  const images = lines.map((line) => (JSON.parse(line) as { image: string }).image);
  const present = await Promise.all(
    images.map((image) =>
      docker
        .getImage(image)
        .inspect()
        .then(
          () => true,
          () => false,
        ),
    ),
  );
  return images.length > 0 && present.every(Boolean);
}

async function buildImages(): Promise<void> {
  if (await upToDate(new Docker())) {
    process.stderr.write('images: up to date (built after the last change to what they are made of)\n');
    return;
  }
  await mkdir(join(ROOT, '.images'), { recursive: true });
  const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>(
    (resolve) => {
      // One build at a time on this machine: runs that start together share `.images/` and the tags.
      const child = spawn('flock', [BUILD_LOCK, process.execPath, 'deploy/images/build.mjs'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        err += chunk;
      });
      child.once('exit', (exit) => resolve({ stdout: out, stderr: err, code: exit }));
    },
  );
  if (code !== 0) throw new Error(`pnpm images failed (exit ${code}):\n${stderr.slice(-4_000)}`);
  await writeFile(LAST_BUILD, stdout);
  process.stderr.write(stdout);
}
