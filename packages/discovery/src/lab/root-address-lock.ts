import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** Another lab held this machine's address on a LAN for longer than we would wait. */
export class RootAddressBusyError extends Error {
  override name = 'RootAddressBusyError';
}

const LOCK_DIR = join(tmpdir(), 'p2pm-netlab-root');
const POLL_MS = 200;

/**
 * This machine's address on a lab LAN, held by one process at a time: two labs giving it the
 * same address (each on its own LAN of the same index) would each get replies meant for the
 * other. So a lab waits until the one before it let go; a lock left by a process that died is
 * taken over. Resolves with the release.
 */
export async function lockRootAddress(address: string, timeoutMs = 120_000): Promise<() => Promise<void>> {
  await mkdir(LOCK_DIR, { recursive: true });
  const file = join(LOCK_DIR, address);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await writeFile(file, String(process.pid), { flag: 'wx' });
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number(await readFile(file, 'utf8').catch(() => ''));
    if (owner === process.pid) throw new RangeError(`this process holds ${address} already`);
    if (!processAlive(owner)) {
      await rm(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new RootAddressBusyError(`process ${owner} has held ${address} on this machine for ${timeoutMs} ms`);
    }
    await delay(POLL_MS);
  }
}

function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
