import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedCatalog, LocalProcessOrchestrator, WarmPool } from '../src/index.js';
import { listenerPid } from './helpers/proc.js';

describe('WarmPool with local peers and the embedded catalog', () => {
  let dir: string;
  let orchestrator: LocalProcessOrchestrator;
  let catalog: EmbeddedCatalog;
  let pool: WarmPool;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pool-'));
    orchestrator = new LocalProcessOrchestrator({ dataRoot: join(dir, 'peers') });
    catalog = new EmbeddedCatalog(join(dir, 'catalog.db'));
    pool = new WarmPool({ orchestrator, catalog, target: 2, reconcileIntervalMs: 200 });
  });
  afterEach(async () => {
    pool.stop();
    await orchestrator.close();
    await pool.settled();
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });

  const vacantCount = async () => (await pool.stats()).vacant;

  it('keeps the target of vacant peers, refilling after a claim', async () => {
    pool.start();
    await expect.poll(vacantCount, { timeout: 20_000 }).toBe(2);
    const claimed = await catalog.claim('ada');
    expect(claimed?.state).toBe('claimed');
    await expect.poll(vacantCount, { timeout: 20_000 }).toBe(2);
    expect(await pool.stats()).toMatchObject({ target: 2, vacant: 2, claimed: 1, starting: 0 });
    expect(orchestrator.list()).toHaveLength(3);
  });

  it('reconciles: drops vacant entries without a peer, keeps users’ ones, stops unknown peers', async () => {
    const stray = await orchestrator.start({ name: 'stray' });
    const fake = {
      instanceId: 'p-000000000000',
      address: '127.0.0.1',
      greetingPort: 1,
      securePort: 2,
      webPort: 0,
      fingerprint: 'x',
    };
    // Two entries whose peers are not running; the first (oldest) goes to a user.
    await catalog.register({ id: 'peeraaaa', name: 'users', ...fake });
    await catalog.register({ id: 'peerbbbb', name: 'spare', ...fake });
    expect((await catalog.claim('ada'))?.id).toBe('peeraaaa');
    await pool.reconcile();
    const left = await catalog.list();
    expect(left.map((p) => [p.id, p.owner, p.healthy])).toEqual([['peeraaaa', 'ada', false]]);
    expect(orchestrator.inspect(stray.instanceId)).toBeNull();
  });

  it('re-registers a peer that died and came back on new ports, and tells the router', async () => {
    pool.start();
    await expect.poll(vacantCount, { timeout: 20_000 }).toBe(2);
    const [peer] = await catalog.list();
    const placed: string[] = [];
    pool.on('placed', (p) => placed.push(`${p.id}:${p.webPort}`));
    const instance = orchestrator.list().find((i) => i.peerId === peer?.id);
    const pid = listenerPid(instance?.webPort as number);
    process.kill(pid, 'SIGKILL');
    await expect
      .poll(async () => (await catalog.get(peer?.id as string))?.webPort, { timeout: 20_000 })
      .not.toBe(peer?.webPort);
    const moved = await catalog.get(peer?.id as string);
    expect(moved).toMatchObject({ healthy: true, instanceId: peer?.instanceId });
    // (A replacement may have started meanwhile: the pool counts only healthy vacant peers.)
    expect(placed).toContain(`${peer?.id}:${moved?.webPort}`);
  });

  it('starts no extra peer for a refill asked for while the vacant peers are coming back', async () => {
    pool.start();
    await expect.poll(vacantCount, { timeout: 20_000 }).toBe(2);
    const before = (await catalog.list()).map((p) => p.id).sort();
    // A restart of the dispatcher: the same catalog and data, a new orchestrator and pool.
    pool.stop();
    await orchestrator.close();
    await pool.settled();
    orchestrator = new LocalProcessOrchestrator({ dataRoot: join(dir, 'peers') });
    pool = new WarmPool({ orchestrator, catalog, target: 2, reconcileIntervalMs: 200 });
    const resumed = pool.start();
    // While they come back (not healthy yet), a refill is asked for, as a claim right after the start would.
    await expect.poll(vacantCount, { timeout: 5_000, interval: 5 }).toBe(0);
    await pool.fill();
    await resumed;
    await expect.poll(vacantCount, { timeout: 20_000 }).toBe(2);
    expect((await catalog.list()).map((p) => p.id).sort()).toEqual(before);
    expect(orchestrator.list()).toHaveLength(2);
  });
});
