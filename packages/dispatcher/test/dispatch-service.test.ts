import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout } from 'node:timers/promises';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DispatchService, EmbeddedCatalog } from '../src/index.js';
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

  /** A service whose pool records in `wanted` who waits for a new peer. */
  const newService = (wanted: Set<string>, init: { maxWaitingUsers: number; log?: pino.Logger }) =>
    new DispatchService({
      catalog,
      pool: { want: (id) => wanted.add(id), unwant: (id) => wanted.delete(id), refillSoon: () => {} },
      router: { entryFor: (id) => `/p/${id}/` },
      ticketKey: generateKeyPairSync('ed25519').privateKey,
      ...init,
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
});
