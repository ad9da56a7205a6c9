// A Node base image made from this machine's Node, for machines that reach no image registry:
// the `node` binary and the shared libraries `ldd` lists, in an image FROM scratch (no shell,
// no package manager: nothing but Node). Images built on it run the host's Node version, so
// native addons compiled on the host (better-sqlite3) load as they are.
import { execFileSync } from 'node:child_process';
import { chmod, copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { buildImage } from './docker-build.mjs';

export const LOCAL_BASE = 'p2p-messenger/node-base:local';

/** The absolute paths of the shared libraries a binary loads (and the loader itself). */
function librariesOf(binary) {
  const listing = execFileSync('ldd', [binary], { encoding: 'utf8' });
  return [...listing.matchAll(/(\/\S+) \(0x[0-9a-f]+\)/g)].map((match) => match[1]);
}

export async function buildLocalBase(docker, dir, log) {
  const node = process.execPath;
  const rootfs = join(dir, 'rootfs');
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(rootfs, 'usr', 'bin'), { recursive: true });
  await copyFile(node, join(rootfs, 'usr', 'bin', 'node'));
  for (const library of librariesOf(node)) {
    await mkdir(join(rootfs, dirname(library)), { recursive: true });
    await copyFile(library, join(rootfs, library));
  }
  // Node writes temporary files; every user may.
  await mkdir(join(rootfs, 'tmp'));
  await chmod(join(rootfs, 'tmp'), 0o1777);
  await writeFile(
    join(dir, 'Dockerfile'),
    [
      'FROM scratch',
      'COPY rootfs/ /',
      `LABEL org.opencontainers.image.title="node ${process.version} (local base)"`,
      `LABEL org.opencontainers.image.description="this machine's Node and its libraries, for images built without a registry"`,
      'ENV PATH=/usr/bin',
      '',
    ].join('\n'),
  );
  log(`${LOCAL_BASE}: node ${process.version} from ${node}`);
  await buildImage(docker, dir, { t: LOCAL_BASE });
}
