// `pnpm images` for swarm:up, one build at a time on this machine: test runs that build the
// same images take the same lock (tools/docker-setup.ts), as they share `.images/` and the tags.
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { log, StackError } from './engine.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Builds the workspace and the local images; their output goes to stderr. */
export async function buildImages() {
  log('building the images (pnpm images)');
  await mkdir(join(root, '.images'), { recursive: true });
  const code = await new Promise((resolve, reject) => {
    const child = spawn('flock', [join(root, '.images', 'build.lock'), 'pnpm', 'images'], {
      cwd: root,
      stdio: ['ignore', process.stderr, process.stderr],
    });
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new StackError(`pnpm images failed (exit ${code}): see its output above`);
}
