import { setTimeout as sleep } from 'node:timers/promises';
import type { SeenEvent } from '@p2p-messenger/discovery/lab';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CatalogHttpDirectory } from '../src/index.js';
import { CatalogNetwork, catalogEntry } from './helpers/catalog-network.js';
import { directoryCompliance } from './helpers/compliance.js';
import { testPeerId } from './helpers/consul-network.js';

directoryCompliance('CatalogHttpDirectory', () => ({
  create: () => CatalogNetwork.create(),
  losesStoppedPeers: true,
  findWithinMs: 2_000,
  leaveWithinMs: 1_000,
}));

const isFound = (id: string) => (e: SeenEvent) => e.event === 'found' && e.peer.id === id;
const idsOf = (directory: CatalogHttpDirectory) =>
  directory
    .peers()
    .map((p) => p.id)
    .sort();

interface LogLine {
  level: number;
  msg: string;
  err?: string;
  dropped?: { position: number; problem: string }[];
}

/** A logger whose lines the test can read. */
function capturedLog() {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { log, lines };
}

describe('CatalogHttpDirectory against the catalog stand-in', () => {
  let network: CatalogNetwork;
  beforeEach(async () => {
    network = await CatalogNetwork.create();
  });
  afterEach(() => network.close());

  it('waits for changes in blocking queries: an idle catalog costs one request, a change shows at once', async () => {
    const { standIn } = network;
    const ada = catalogEntry('ada');
    standIn.add(ada);
    const { directory, log } = network.directory({ waitMs: 30_000 });
    await directory.start();
    await log.waitFor(isFound(ada.id), 2_000);
    await expect.poll(() => standIn.pending).toBe(1);
    const asked = standIn.requests.length;
    expect(standIn.requests.at(-1)).toMatchObject({ index: standIn.index, waitMs: 30_000 });
    // Absence of requests can only be seen by waiting: two idle seconds.
    await sleep(2_000);
    expect(standIn.requests.length).toBe(asked);
    const bob = catalogEntry('bob');
    const changedAt = Date.now();
    standIn.add(bob);
    const found = await log.waitFor(isFound(bob.id), 1_000);
    expect(found.atMs - changedAt).toBeLessThan(500);
    await expect.poll(() => standIn.pending).toBe(1);
    expect(standIn.requests.length).toBe(asked + 1);
  });

  it('logs a refused token as an error, lists nothing, retries, and never logs the token', async () => {
    const standIn = await network.restart({ token: 'the-right-token', entries: [catalogEntry('ada')] });
    const wrong = capturedLog();
    const { directory, log } = network.directory({ token: 'a-stale-token', log: wrong.log });
    const none = capturedLog();
    const untokened = network.directory({ log: none.log }).directory;
    await Promise.all([directory.start(), untokened.start()]);
    await expect.poll(() => standIn.requests.filter((r) => r.authorization !== null).length).toBeGreaterThan(2);
    expect(standIn.requests.find((r) => r.authorization)?.authorization).toBe('Bearer a-stale-token');
    expect([directory.peers(), untokened.peers(), log.events]).toEqual([[], [], []]);
    // One error for the spell, not one per retry.
    expect(wrong.lines.filter((l) => l.level === 50).map((l) => l.msg)).toEqual([
      'the catalog refused the token: it is wrong (or no longer valid); retrying',
    ]);
    await expect.poll(() => none.lines.map((l) => l.msg)).toContainEqual(expect.stringMatching(/needs a token/));
    expect(JSON.stringify(wrong.lines)).not.toContain('a-stale-token');
    const right = network.directory({ token: 'the-right-token' });
    await right.directory.start();
    await right.log.waitFor((e) => e.event === 'found');
  });

  it('leaves out malformed entries, and keeps its entries through garbage answers', async () => {
    const { standIn } = network;
    const ada = catalogEntry('ada');
    const { log: logger, lines } = capturedLog();
    standIn.list([
      ada,
      { ...catalogEntry('bad-port'), greetingPort: 70_000 },
      { ...catalogEntry('no-address'), addresses: [] },
      { ...catalogEntry('bad-address'), addresses: ['not a host'] },
      { ...ada, name: 'ada again' },
      { ...catalogEntry('bad-id'), id: 'NOT-AN-ID' },
      { ...catalogEntry('no-version'), protocolVersion: '1' },
      42,
      null,
    ]);
    const { directory, log } = network.directory({ log: logger });
    await directory.start();
    await log.waitFor(isFound(ada.id));
    expect(directory.peers().map((p) => p.name)).toEqual(['ada']);
    expect(lines.find((l) => l.dropped)?.dropped?.map((d) => d.problem)).toEqual([
      'port out of range',
      'no addresses',
      'malformed address',
      'duplicate id',
      'malformed id',
      'malformed protocol version',
      'not an object',
      'not an object',
    ]);
    const carol = catalogEntry('carol');
    for (const body of ['<html>busy</html>', 'null', '{"index": 9}', '{"index": 0, "peers": []}']) {
      standIn.misbehave({ status: 200, body });
      const asked = standIn.requests.length;
      standIn.add(carol); // answers the held query (with garbage), and later ones at once
      await expect.poll(() => standIn.requests.length).toBeGreaterThan(asked + 2);
      expect(idsOf(directory)).toEqual([ada.id]);
    }
    const warnings = lines.filter((l) => l.level === 40 && l.err).map((l) => l.err);
    expect(warnings).toContainEqual(expect.stringMatching(/not JSON/));
    expect(warnings).toContainEqual(expect.stringMatching(/no "peers" list/));
    expect(warnings).toContainEqual(expect.stringMatching(/no positive whole "index"/));
    standIn.misbehave(null);
    await log.waitFor(isFound(carol.id));
    expect(log.events.filter((e) => e.event === 'lost')).toEqual([]);
  });

  it('lists a peer of another network with its route through the bridge, and leaves out malformed routes', async () => {
    const { standIn } = network;
    const bridgeId = testPeerId();
    const route = { bridgeId, host: '10.0.0.9', greetingPort: 7700, securePort: 7701, hops: 1 };
    const remote = { ...catalogEntry('remote'), addresses: [], relays: [route] };
    const both = { ...catalogEntry('both'), relays: [{ ...route, hops: 2 }] };
    const { log: logger, lines } = capturedLog();
    standIn.list([
      remote,
      both,
      { ...catalogEntry('no-route'), addresses: [], relays: [] },
      { ...catalogEntry('bad-bridge'), relays: [{ ...route, bridgeId: 'nope' }] },
      { ...catalogEntry('bad-hops'), relays: [{ ...route, hops: 0 }] },
      { ...catalogEntry('loop'), relays: [{ ...route, hops: 99 }] },
      { ...catalogEntry('bad-host'), relays: [{ ...route, host: 'not a host' }] },
      { ...catalogEntry('not-a-list'), relays: route },
    ]);
    const { directory, log } = network.directory({ log: logger });
    await directory.start();
    await log.waitFor(isFound(both.id));
    expect(directory.peer(remote.id)).toMatchObject({ addresses: [], relays: [route] });
    expect(directory.peer(both.id)).toMatchObject({ addresses: ['127.0.0.1'], relays: [{ ...route, hops: 2 }] });
    expect(directory.peers()).toHaveLength(2);
    expect(lines.find((l) => l.dropped)?.dropped?.map((d) => d.problem)).toEqual([
      'no addresses',
      'malformed relays',
      'malformed relays',
      'malformed relays',
      'malformed relays',
      'malformed relays',
    ]);
  });

  it('starts over from index 0 when the catalog comes back with a lower index (a restart)', async () => {
    const [ada, bob, cyd] = [catalogEntry('ada'), catalogEntry('bob'), catalogEntry('cyd')];
    const before = await network.restart({ index: 100, entries: [ada, bob] });
    const { directory, log } = network.directory({ waitMs: 30_000 });
    await directory.start();
    await log.waitFor(isFound(bob.id));
    await expect.poll(() => before.pending).toBe(1);
    const after = await network.restart({ index: 1, entries: [ada, cyd] });
    const lost = await log.waitFor((e) => e.event === 'lost' && e.peer.id === bob.id);
    expect(lost.reason).toBe('removed');
    await log.waitFor(isFound(cyd.id));
    expect(idsOf(directory)).toEqual([ada.id, cyd.id].sort());
    // It asked with the old index, started over without one, and now waits on the new one.
    await expect.poll(() => after.pending).toBe(1);
    expect(after.requests.map((r) => r.index)).toEqual([100, null, 1]);
    const dan = catalogEntry('dan');
    after.add(dan);
    await log.waitFor(isFound(dan.id), 1_000);
    expect(log.events.filter((e) => e.event === 'lost').map((e) => e.peer.id)).toEqual([bob.id]);
  });

  it('keeps its entries through 5xx answers and an outage, and catches up when the catalog is back', async () => {
    const [ada, bob, carol] = [catalogEntry('ada'), catalogEntry('bob'), catalogEntry('carol')];
    network.standIn.list([ada, bob]);
    const { log: logger, lines } = capturedLog();
    const { directory, log } = network.directory({ log: logger });
    await directory.start();
    await log.waitFor(isFound(bob.id));
    const warned = (pattern: RegExp) => () => lines.some((l) => l.level === 40 && pattern.test(l.err ?? ''));
    network.standIn.misbehave({ status: 503, body: '{"error":"starting"}' });
    network.standIn.add(carol);
    await expect.poll(warned(/HTTP 503/)).toBe(true);
    await network.standIn.stop();
    await expect.poll(warned(/cannot reach the catalog/)).toBe(true);
    expect(idsOf(directory)).toEqual([ada.id, bob.id].sort());
    await network.restart({ index: 50, entries: [ada, carol] });
    await log.waitFor(isFound(carol.id), 2_000);
    expect(log.events.filter((e) => e.event === 'lost').map((e) => [e.peer.id, e.reason])).toEqual([
      [bob.id, 'removed'],
    ]);
    expect(lines.map((l) => l.msg)).toContain('the catalog answers again');
  });

  it('gives up on a query that is never answered, and on a server that does not block', async () => {
    const { standIn } = network;
    standIn.add(catalogEntry('ada'));
    standIn.misbehave('hang');
    const { log: logger, lines } = capturedLog();
    const { directory, log } = network.directory({ waitMs: 200, log: logger });
    await directory.start();
    // Timed out after 1.25 waits + 1 s, and asked again.
    await expect.poll(() => standIn.requests.length, { timeout: 4_000 }).toBeGreaterThan(1);
    expect(lines.map((l) => l.err)).toContain('the catalog did not answer within 1250 ms');
    standIn.misbehave('no-blocking');
    await log.waitFor((e) => e.event === 'found');
    const asked = standIn.requests.length;
    await sleep(1_000);
    // Backing off (20 ms, doubling up to 200 ms) rather than asking as fast as it answers.
    expect(standIn.requests.length - asked).toBeLessThan(15);
    expect(lines.map((l) => l.err)).toContain('the catalog answers blocking queries at once; slowing down');
  });

  it('stop() ends the held query at once, is safe twice, and a restarted directory reports again', async () => {
    const { standIn } = network;
    const ada = catalogEntry('ada');
    standIn.add(ada);
    const { directory, log } = network.directory({ waitMs: 30_000 });
    await Promise.all([directory.start(), directory.start()]);
    await log.waitFor(isFound(ada.id));
    await expect.poll(() => standIn.pending).toBe(1);
    const stoppingAt = performance.now();
    await Promise.all([directory.stop(), directory.stop()]);
    expect(performance.now() - stoppingAt).toBeLessThan(500);
    await expect.poll(() => standIn.pending).toBe(0);
    expect(directory.peers()).toEqual([]);
    await directory.start();
    await expect.poll(() => log.events.filter(isFound(ada.id)).length).toBe(2);
  });

  it('refuses a URL that is not http(s) and a token that cannot be a header', () => {
    for (const url of ['ftp://catalog:21', 'catalog:7600', 'http://']) {
      expect(() => new CatalogHttpDirectory({ url })).toThrow(
        expect.objectContaining({ name: 'DiscoveryConfigError' }),
      );
    }
    expect(() => new CatalogHttpDirectory({ url: 'http://10.0.0.2:7600', token: 'two words' })).toThrow(
      /printable ASCII/,
    );
  });
});
