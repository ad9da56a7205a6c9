import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Catalog } from '../../src/index.js';
import { catalogPeer } from './catalog-peer.js';

/** A catalog under test, and how to open it again on the same storage (a restart of the dispatcher). */
export interface CatalogSubject {
  open(): Promise<Catalog>;
  dispose(): Promise<void>;
}

/** What every Catalog must do, whatever keeps it: run once per implementation. */
export function catalogCompliance(setUp: () => Promise<CatalogSubject>): void {
  let subject: CatalogSubject;
  let catalog: Catalog;
  beforeEach(async () => {
    subject = await setUp();
    catalog = await subject.open();
  });
  afterEach(async () => {
    await catalog.close();
    await subject.dispose();
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
    expect(await catalog.assignedTo('bob')).toBeNull();
  });

  it('keeps a claimed peer its owner’s when it registers again (a restart of the peer)', async () => {
    await catalog.register(catalogPeer(1));
    await catalog.claim('ada');
    await catalog.setHealthy(catalogPeer(1).id, false);
    await catalog.register({ ...catalogPeer(1), address: '10.0.0.9' });
    expect(await catalog.assignedTo('ada')).toMatchObject({
      id: catalogPeer(1).id,
      address: '10.0.0.9',
      healthy: true,
    });
  });

  it('says when it changed', async () => {
    let changes = 0;
    catalog.on('changed', () => changes++);
    await catalog.register(catalogPeer(1));
    await expect.poll(() => changes, { timeout: 5_000 }).toBeGreaterThan(0);
  });

  it('keeps assignments across a restart', async () => {
    await catalog.register(catalogPeer(1));
    const claimed = await catalog.claim('ada');
    await catalog.close();
    catalog = await subject.open();
    expect(await catalog.assignedTo('ada')).toEqual(claimed);
    expect((await catalog.list()).map((p) => [p.id, p.state, p.owner])).toEqual([
      [catalogPeer(1).id, 'claimed', 'ada'],
    ]);
  });
}
