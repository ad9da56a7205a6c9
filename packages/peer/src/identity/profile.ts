import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What the owner chose for their peer, kept in its data dir: for now the name it shows
 * (a dispatcher's user's name), which wins over the configured one at every start.
 */
interface Profile {
  name?: string;
}

const FILE = 'profile.json';

export async function readProfileName(dataDir: string): Promise<string | null> {
  try {
    const profile = JSON.parse(await readFile(join(dataDir, FILE), 'utf8')) as Profile;
    return typeof profile.name === 'string' && profile.name.trim() ? profile.name : null;
  } catch {
    // None yet, or unreadable: the configured name stands.
    return null;
  }
}

export async function writeProfileName(dataDir: string, name: string): Promise<void> {
  const path = join(dataDir, FILE);
  // Written whole, then renamed: a crash leaves the old profile or the new one.
  await writeFile(`${path}.tmp`, `${JSON.stringify({ name } satisfies Profile)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}
