import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Catalog, EmbeddedCatalog } from '../src/index.js';
import { catalogPeer } from './helpers/catalog-peer.js';

const run = promisify(execFile);
const BUILT = fileURLToPath(new URL('../dist/catalog/embedded-catalog.js', import.meta.url));

describe('EmbeddedCatalog', () => {
  let dir: string;
  let catalog: Catalog;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'catalog-'));
    catalog = new EmbeddedCatalog(join(dir, 'catalog.db'));
  });
  afterEach(async () => {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives each user one peer, the same one every time, and never one peer to two users', async () => {
    for (let n = 1; n <= 10; n++) await catalog.register(catalogPeer(n));
    // Fifty logins at once for ten vacant peers.
    const claims = await Promise.all(Array.from({ length: 50 }, (_, i) => catalog.claim(`user-${i}`)));
    const won = claims.filter((c) => c !== null);
    expect(won).toHaveLength(10);
    expect(new Set(won.map((c) => c?.id)).size).toBe(10);
    const [first] = won;
    expect(await catalog.claim(first?.owner as string)).toMatchObject({ id: first?.id, state: 'claimed' });
    expect(await catalog.claim('latecomer')).toBeNull();
  });

  it('skips unhealthy peers, and hands out released ones again', async () => {
    await catalog.register(catalogPeer(1));
    await catalog.register(catalogPeer(2));
    await catalog.setHealthy(catalogPeer(1).id, false);
    expect((await catalog.claim('ada'))?.id).toBe(catalogPeer(2).id);
    expect(await catalog.claim('bob')).toBeNull();
    await catalog.release(catalogPeer(2).id);
    expect(await catalog.assignedTo('ada')).toBeNull();
    expect((await catalog.claim('bob'))?.id).toBe(catalogPeer(2).id);
    await catalog.remove(catalogPeer(2).id);
    expect(await catalog.get(catalogPeer(2).id)).toBeNull();
  });

  it('keeps assignments across a restart', async () => {
    await catalog.register(catalogPeer(1));
    const claimed = await catalog.claim('ada');
    await catalog.close();
    catalog = new EmbeddedCatalog(join(dir, 'catalog.db'));
    expect(await catalog.assignedTo('ada')).toEqual(claimed);
    expect((await catalog.list()).map((p) => [p.id, p.state, p.owner])).toEqual([
      [catalogPeer(1).id, 'claimed', 'ada'],
    ]);
  });

  it('stays exclusive when two processes claim from the same file at once', async () => {
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
  });
});
