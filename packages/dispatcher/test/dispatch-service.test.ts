import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout } from 'node:timers/promises';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DispatchService, EmbeddedCatalog, type StartFailure } from '../src/index.js';
import { catalogPeer } from './helpers/catalog-peer.js';

/** A logger whose lines the test reads. */
function capturedLog(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

describe('DispatchService with the embedded catalog', () => {
  let dir: string;
  let catalog: EmbeddedCatalog;
  let service: DispatchService | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dispatch-'));
    catalog = new EmbeddedCatalog(join(dir, 'catalog.db'));
  });
  afterEach(async () => {
    service?.close();
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A service whose pool records in `wanted` who waits for a new peer, and fails its starts as `startFailure` says. */
  const newService = (
    wanted: Set<string>,
    init: { maxWaitingUsers: number; log?: pino.Logger; startFailure?: () => StartFailure | null },
  ) =>
    new DispatchService({
      catalog,
      pool: {
        want: (id) => wanted.add(id),
        unwant: (id) => wanted.delete(id),
        refillSoon: () => {},
        owned: () => {},
        get startFailure() {
          return init.startFailure?.() ?? null;
        },
      },
      router: { entryFor: (id) => `/p/${id}/` },
      ticketKey: generateKeyPairSync('ed25519').privateKey,
      maxWaitingUsers: init.maxWaitingUsers,
      ...(init.log ? { log: init.log } : {}),
    });

  it('hands each waiting user one peer, in order of arrival, once', async () => {
    const { log, lines } = capturedLog();
    const wanted = new Set<string>();
    service = newService(wanted, { maxWaitingUsers: 10, log });
    const users = ['ada', 'bob', 'cy'];
    for (const user of users) await service.enqueue(user);
    expect([...wanted]).toEqual(users);
    const handedOut = users.map((user) => service?.wait(user, new AbortController().signal, () => {}));
    // Peers come one at a time, each to a line at rest: its registration sets the line moving.
    for (let n = 1; n <= users.length; n++) {
      await setTimeout(20);
      await catalog.register(catalogPeer(n));
    }
    const peers = await Promise.all(handedOut);
    expect(peers.map((p) => p?.id)).toEqual([catalogPeer(1).id, catalogPeer(2).id, catalogPeer(3).id]);
    expect(peers.map((p) => p?.owner)).toEqual(users);
    expect(wanted.size).toBe(0);
    const handOvers = lines.filter((line) => line.msg === 'peer handed out').map((line) => line.userId);
    expect(handOvers).toEqual(users);
  });

  it('lets a user whose peer is coming back wait for it: nothing started, no place in the line taken', async () => {
    const wanted = new Set<string>();
    service = newService(wanted, { maxWaitingUsers: 1 });
    // Ada's peer, down (a restart of the dispatcher is bringing it back).
    await catalog.register(catalogPeer(1));
    expect((await catalog.claim('ada'))?.id).toBe(catalogPeer(1).id);
    await catalog.setHealthy(catalogPeer(1).id, false);
    expect(await service.peerNow('ada')).toBeNull();
    // A newcomer fills the line for new peers; Ada still gets in it, behind nobody.
    await service.enqueue('newcomer');
    await service.enqueue('ada');
    expect([...wanted]).toEqual(['newcomer']);
    await expect(service.enqueue('another')).rejects.toMatchObject({ name: 'TooBusyError' });
    const positions: number[] = [];
    const adaGets = service.wait('ada', new AbortController().signal, (p) => positions.push(p.position));
    await catalog.register(catalogPeer(1));
    expect((await adaGets).id).toBe(catalogPeer(1).id);
    expect(positions[0]).toBe(1);
    expect([...wanted]).toEqual(['newcomer']);
  });

  it('tells those waiting for a new peer that none can start, turns newcomers away until the pool tries again', async () => {
    const wanted = new Set<string>();
    let failure: StartFailure | null = null;
    service = newService(wanted, { maxWaitingUsers: 10, startFailure: () => failure });
    // Ada's peer is coming back (after a restart); Bob waits for a new one.
    await catalog.register(catalogPeer(1));
    expect((await catalog.claim('ada'))?.id).toBe(catalogPeer(1).id);
    await catalog.setHealthy(catalogPeer(1).id, false);
    await service.enqueue('ada');
    await service.enqueue('bob');
    const adaGets = service.wait('ada', new AbortController().signal, () => {});
    const bobGets = service.wait('bob', new AbortController().signal, () => {});

    failure = { error: new Error('the peer image is not on this engine'), retryAtMs: Date.now() + 3_000 };
    await service.startsFailed(failure);
    await expect(bobGets).rejects.toMatchObject({ name: 'PeersUnavailableError', retryAfterS: 3 });
    expect([...wanted]).toEqual([]);
    await expect(service.enqueue('cy')).rejects.toMatchObject({ name: 'PeersUnavailableError' });
    expect([...wanted]).toEqual([]);
    // Ada's own peer needs no start: she still gets it.
    await catalog.register(catalogPeer(1));
    expect((await adaGets).id).toBe(catalogPeer(1).id);

    // Once the pool tries again, newcomers wait in line as before.
    failure = { ...failure, retryAtMs: Date.now() - 1 };
    await service.enqueue('cy');
    expect([...wanted]).toEqual(['cy']);
  });
});
