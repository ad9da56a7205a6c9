import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EmbeddedCatalog,
  LocalProcessOrchestrator,
  type StartFailure,
  SwarmOrchestrator,
  WarmPool,
} from '../src/index.js';
import { listenerPid } from './helpers/proc.js';
import { PEER_IMAGE, testSwarm } from './helpers/swarm.js';

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

  it('keeps a peer that came back unhealthy, and goes on, when its route cannot be made', async () => {
    const routed: string[] = [];
    let refuse = false;
    const router = {
      route: async (peerId: string) => {
        routed.push(peerId);
        if (refuse) throw Object.assign(new Error('Traefik did not come to answer'), { name: 'RouteNotLiveError' });
      },
      unroute: async () => {},
    };
    pool.stop();
    pool = new WarmPool({ orchestrator, catalog, target: 1, router });
    pool.start();
    await expect.poll(vacantCount, { timeout: 20_000 }).toBe(1);
    const [peer] = await catalog.list();
    const instance = orchestrator.list().find((i) => i.peerId === peer?.id);
    refuse = true;
    const before = routed.length;
    process.kill(listenerPid(instance?.webPort as number), 'SIGKILL');
    // Back, and asked to be routed again: refused, so not handed out (no unhandled rejection either).
    await expect.poll(() => routed.slice(before), { timeout: 20_000 }).toContain(peer?.id);
    expect((await catalog.get(peer?.id as string))?.healthy).toBe(false);
  });

  it('after a failed start, pauses before the next; a peer that crashes at start turns no one away; starts again once it can', async () => {
    // The real peer command behind a gate: while the file `broken` exists, a peer exits at once.
    const broken = join(dir, 'broken');
    const gate = join(dir, 'gate.mjs');
    const peerMain = join(dirname(createRequire(import.meta.url).resolve('@p2p-messenger/peer')), 'cli', 'main.js');
    await writeFile(broken, '');
    await writeFile(
      gate,
      `import { existsSync } from 'node:fs';\nif (existsSync(${JSON.stringify(broken)})) process.exit(3);\nawait import(${JSON.stringify(peerMain)});\n`,
    );
    await orchestrator.close();
    orchestrator = new LocalProcessOrchestrator({ dataRoot: join(dir, 'peers'), command: [process.execPath, gate] });
    pool = new WarmPool({ orchestrator, catalog, target: 1, reconcileIntervalMs: 50, retryAfterFailureMs: 500 });
    const failedAt: number[] = [];
    const stalls: StartFailure[] = [];
    pool.on('failed', () => failedAt.push(Date.now()));
    pool.on('stalled', (failure) => stalls.push(failure));
    pool.start();
    await expect.poll(() => failedAt.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(3);
    // Not again at once (a crash loop), but after a pause.
    for (const [i, at] of failedAt.slice(1).entries()) expect(at - (failedAt[i] as number)).toBeGreaterThanOrEqual(450);
    // A crash (or a slow start) is no lasting reason: those waiting keep waiting.
    expect(stalls).toEqual([]);
    expect(pool.startFailure).toBeNull();

    await rm(broken);
    await expect.poll(vacantCount, { timeout: 20_000 }).toBe(1);
    expect(pool.startFailure).toBeNull();
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

describe('WarmPool with SwarmOrchestrator and a peer image not on the engine', () => {
  it('says peers cannot start (stalled, startFailure) while the image is missing, and starts once it is there', async () => {
    const swarm = await testSwarm();
    const dir = await mkdtemp(join(tmpdir(), 'pool-'));
    const tag = `missing-${swarm.pool}`;
    const catalog = new EmbeddedCatalog(join(dir, 'catalog.db'));
    const orchestrator = new SwarmOrchestrator({
      docker: swarm.docker,
      image: `p2p-messenger/peer:${tag}`,
      network: swarm.network,
      pool: swarm.pool,
    });
    const pool = new WarmPool({ orchestrator, catalog, target: 1, reconcileIntervalMs: 200, retryAfterFailureMs: 200 });
    const stalls: StartFailure[] = [];
    const failedAt: number[] = [];
    pool.on('stalled', (failure) => stalls.push(failure));
    pool.on('failed', () => failedAt.push(Date.now()));
    try {
      pool.start();
      await expect.poll(() => failedAt.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(3);
      // The reason lasts: each pause twice the one before (200 ms, then 400 ms).
      expect((failedAt[2] as number) - (failedAt[1] as number)).toBeGreaterThanOrEqual(350);
      expect(stalls[0]?.error).toMatchObject({ name: 'ImageMissingError', lasting: true });
      expect(pool.startFailure?.error.name).toBe('ImageMissingError');
      // The operator builds (here: tags) the image: the next start after the pause succeeds.
      await swarm.docker.getImage(PEER_IMAGE).tag({ repo: 'p2p-messenger/peer', tag });
      await expect.poll(async () => (await pool.stats()).vacant, { timeout: 90_000 }).toBe(1);
      expect(pool.startFailure).toBeNull();
    } finally {
      pool.stop();
      await orchestrator.close();
      await pool.settled();
      await catalog.close();
      await swarm.docker
        .getImage(`p2p-messenger/peer:${tag}`)
        .remove()
        .catch(() => {});
      await swarm.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
