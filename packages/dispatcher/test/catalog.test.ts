import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { EmbeddedCatalog } from '../src/index.js';
import { catalogCompliance } from './helpers/catalog-compliance.js';
import { catalogPeer } from './helpers/catalog-peer.js';

const run = promisify(execFile);
const BUILT = fileURLToPath(new URL('../dist/catalog/embedded-catalog.js', import.meta.url));

describe('EmbeddedCatalog', () => {
  let dir: string;
  catalogCompliance(async () => {
    dir = await mkdtemp(join(tmpdir(), 'catalog-'));
    return {
      open: async () => new EmbeddedCatalog(join(dir, 'catalog.db')),
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  });

  it('stays exclusive when two processes claim from the same file at once', async () => {
    const catalog = new EmbeddedCatalog(join(dir, 'catalog.db'));
    for (let n = 1; n <= 20; n++) await catalog.register(catalogPeer(n));
    const racer = (prefix: string) => `
      const { EmbeddedCatalog } = await import(${JSON.stringify(BUILT)});
      const catalog = new EmbeddedCatalog(${JSON.stringify(join(dir, 'catalog.db'))});
      const won = [];
      for (let i = 0; i < 30; i++) { const c = await catalog.claim('${prefix}' + i); if (c) won.push(c.id); }
      await catalog.close();
      console.log(JSON.stringify(won));`;
    const results = await Promise.all(
      ['a-', 'b-'].map((prefix) => run(process.execPath, ['--input-type=module', '-e', racer(prefix)])),
    );
    const won = results.flatMap((r) => JSON.parse(r.stdout) as string[]);
    expect(won).toHaveLength(20);
    expect(new Set(won).size).toBe(20);
    const owners = (await catalog.list()).map((p) => p.owner);
    expect(new Set(owners).size).toBe(20);
    await catalog.close();
  });
});
