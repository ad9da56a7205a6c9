import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** What `pnpm images` printed in this run, for the tests of the images to read. */
export const LAST_BUILD = join(ROOT, '.images', 'last-build.jsonl');

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

async function buildImages(): Promise<void> {
  const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>(
    (resolve) => {
      const child = spawn(process.execPath, ['deploy/images/build.mjs'], {
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
  await mkdir(join(ROOT, '.images'), { recursive: true });
  await writeFile(LAST_BUILD, stdout);
  process.stderr.write(stdout);
}
