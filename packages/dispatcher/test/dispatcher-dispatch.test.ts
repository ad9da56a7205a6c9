import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { issueTicket } from '@p2p-messenger/peer';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedCatalog } from '../src/index.js';
import { TestDispatchers, vacantPeers } from './helpers/test-dispatcher.js';
import { WebClient } from './helpers/web-client.js';

const TICKET_PATH = /^\/p\/([a-z2-7]{32})\/login\?ticket=([\w.%-]+)$/;

/** Logs a new guest in; returns the client and where the dispatcher sent it. */
async function guest(url: string): Promise<{ web: WebClient; location: string }> {
  const web = new WebClient(url);
  const response = await web.post('/guest', { _csrf: await web.csrf() });
  expect(response.status).toBe(303);
  return { web, location: response.headers.get('location') ?? '' };
}

/** Reads a server-sent event stream until `until` returns true for an event. */
async function readEvents(
  response: Response,
  until: (event: string, data: unknown) => boolean,
): Promise<{ event: string; data: unknown }[]> {
  const events: { event: string; data: unknown }[] = [];
  const reader = (response.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return events;
    buffer += value;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!event || data === undefined) continue;
      events.push({ event, data: JSON.parse(data) });
      if (until(event, events.at(-1)?.data)) {
        await reader.cancel();
        return events;
      }
    }
  }
}

describe('the dispatcher: handing users their peers', () => {
  const dispatchers = new TestDispatchers();
  afterEach(() => dispatchers.cleanup());

  it('lets a user into their own peer with a ticket, once; forged, replayed and others’ tickets get nothing', async () => {
    const d = await dispatchers.start(['--pool', '2']);
    await vacantPeers(d, 2);
    const ada = await guest(d.url);
    const bob = await guest(d.url);
    const [, adaPeer, adaTicket] = TICKET_PATH.exec(ada.location) ?? [];
    const [, bobPeer] = TICKET_PATH.exec(bob.location) ?? [];
    expect(adaPeer).toBeDefined();
    expect(bobPeer).toBeDefined();
    expect(adaPeer).not.toBe(bobPeer);

    const { response, visited } = await ada.web.follow(await ada.web.get(ada.location));
    expect(visited).toEqual([`/p/${adaPeer}/`]);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('data-testid="my-peer-id"');
    const self = await ada.web.get(`/p/${adaPeer}/api/self`);
    // The peer now shows its user's name.
    expect(await self.json()).toMatchObject({ id: adaPeer, name: expect.stringMatching(/^guest-[0-9a-f]{10}$/) });

    // The same ticket again (a leaked link), a forged one, and one for another peer.
    const replay = await new WebClient(d.url).get(ada.location);
    expect(replay.status).toBe(403);
    const forger = generateKeyPairSync('ed25519').privateKey;
    const forged = issueTicket(forger, { peerId: adaPeer as string, owner: 'mallory' });
    expect((await new WebClient(d.url).get(`/p/${adaPeer}/login?ticket=${forged}`)).status).toBe(403);
    const misdirected = `/p/${bobPeer}/login?ticket=${adaTicket}`;
    expect((await new WebClient(d.url).get(misdirected)).status).toBe(403);

    // Ada, logged in to her peer, still cannot see Bob's: no cookie of hers opens it.
    for (const path of [
      `/p/${bobPeer}/`,
      `/p/${bobPeer}/api/self`,
      `/p/${bobPeer}/api/peers`,
      `/p/${bobPeer}/api/events`,
    ]) {
      const attempt = await ada.web.get(path);
      expect(attempt.status, path).toBe(401);
      expect(await attempt.text()).not.toContain(bobPeer);
    }
    // Her own peer cookie sent to Bob's path by hand does not either.
    const adaCookie = ada.web.cookies.get('p2pm_owner')?.value as string;
    const stolen = await fetch(`${d.url}/p/${bobPeer}/api/self`, { headers: { cookie: `p2pm_owner=${adaCookie}` } });
    expect(stolen.status).toBe(401);
  });

  it('gives the last vacant peer to exactly one of many users logging in at once; the others wait and get their own', async () => {
    const d = await dispatchers.start(['--pool', '1', '--max-starts', '4']);
    await vacantPeers(d, 1);
    const users = await Promise.all(Array.from({ length: 6 }, () => guest(d.url)));
    const warm = users.filter((u) => TICKET_PATH.test(u.location));
    expect(warm).toHaveLength(1);
    expect(users.filter((u) => u.location === '/starting')).toHaveLength(5);
    // Each waiting user follows the progress page's events to a peer of their own.
    const peers = await Promise.all(
      users.map(async (user) => {
        if (user.location !== '/starting') return TICKET_PATH.exec(user.location)?.[1];
        const events = await readEvents(await user.web.get('/starting/events'), (event) => event !== 'progress');
        expect(events.at(-1)).toEqual({ event: 'ready', data: { url: '/go' } });
        expect(events.some((e) => e.event === 'progress')).toBe(true);
        return TICKET_PATH.exec((await user.web.get('/go')).headers.get('location') ?? '')?.[1];
      }),
    );
    expect(peers.every((id) => typeof id === 'string')).toBe(true);
    expect(new Set(peers).size).toBe(6);
  });

  it('answers 429 with Retry-After when too many users wait for new peers', async () => {
    const d = await dispatchers.start(['--pool', '0', '--max-waiting', '1']);
    const first = await guest(d.url);
    expect(first.location).toBe('/starting');
    const second = new WebClient(d.url);
    const busy = await second.post('/guest', { _csrf: await second.csrf() });
    expect(busy.status).toBe(429);
    expect(Number(busy.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await busy.text()).toContain('Try again');
    // The first one still gets a peer.
    const events = await readEvents(await first.web.get('/starting/events'), (event) => event !== 'progress');
    expect(events.at(-1)?.event).toBe('ready');
  });

  it('keeps every assignment, session and peer (same id, same history) across a dispatcher restart', async () => {
    const dataDir = await dispatchers.dataDir();
    const first = await dispatchers.start(['--pool', '2'], dataDir);
    await vacantPeers(first, 2);
    const ada = new WebClient(first.url);
    const signup = await ada.post('/signup', { _csrf: await ada.csrf(), username: 'ada', password: 'a long password' });
    const bob = await guest(first.url);
    const adaPeer = TICKET_PATH.exec(signup.headers.get('location') ?? '')?.[1] as string;
    const bobPeer = TICKET_PATH.exec(bob.location)?.[1] as string;
    await ada.follow(signup);
    await bob.web.follow(await bob.web.get(bob.location));
    // Ada and Bob find each other through the catalog; Ada writes to Bob.
    await expect
      .poll(
        async () => ((await (await ada.get(`/p/${adaPeer}/api/peers`)).json()) as { id: string }[]).map((p) => p.id),
        {
          timeout: 20_000,
        },
      )
      .toContain(bobPeer);
    const sent = await fetch(`${first.url}/p/${adaPeer}/api/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: ada.cookieHeader(`/p/${adaPeer}/`) },
      body: JSON.stringify({ peerId: bobPeer, text: 'before the restart' }),
    });
    expect(sent.status).toBe(200);
    const history = async (web: WebClient, peer: string, other: string) =>
      ((await (await web.get(`/p/${peer}/api/history/${other}`)).json()) as { text: string; state: string }[]).map(
        (m) => `${m.text}:${m.state}`,
      );
    await expect
      .poll(() => history(ada, adaPeer, bobPeer), { timeout: 20_000 })
      .toEqual(['before the restart:delivered']);
    const port = new URL(first.url).port;
    await first.close();

    const second = await dispatchers.start(['--pool', '2', '--port', port], dataDir);
    await expect.poll(async () => (await fetch(`${second.url}/readyz`)).status, { timeout: 30_000 }).toBe(200);
    // The same session cookies work, and lead to the same peers, with their history.
    for (const [web, peer, other] of [
      [ada, adaPeer, bobPeer],
      [bob.web, bobPeer, adaPeer],
    ] as const) {
      const go = await web.get('/go');
      const location = go.headers.get('location') ?? '';
      expect(TICKET_PATH.exec(location)?.[1]).toBe(peer);
      await web.follow(await web.get(location));
      const texts = (await history(web, peer, other)).map((m) => m.split(':')[0]);
      expect(texts).toEqual(['before the restart']);
    }
    expect(await history(ada, adaPeer, bobPeer)).toEqual(['before the restart:delivered']);
    expect(await (await ada.get(`/p/${adaPeer}/api/self`)).json()).toMatchObject({ name: 'ada' });
  });

  it('sends returning users through the progress page into their own peer while it comes back after a restart', async () => {
    const dataDir = await dispatchers.dataDir();
    const first = await dispatchers.start(['--pool', '1'], dataDir);
    await vacantPeers(first, 1);
    const users = [await guest(first.url), await guest(first.url)];
    const peers: string[] = [];
    for (const user of users) {
      // The second waits for a peer started for them.
      if (user.location === '/starting') await readEvents(await user.web.get('/starting/events'), (e) => e === 'ready');
      const go =
        user.location === '/starting' ? ((await user.web.get('/go')).headers.get('location') ?? '') : user.location;
      peers.push(TICKET_PATH.exec(go)?.[1] as string);
      expect((await user.web.follow(await user.web.get(go))).response.status).toBe(200);
    }
    await vacantPeers(first, 1);
    const port = new URL(first.url).port;
    await first.close();
    // What the catalog holds at the restart (a refill may have been under way until the close).
    const stopped = new EmbeddedCatalog(join(dataDir, 'catalog.db'));
    const before = (await stopped.list()).map((p) => p.id).sort();
    await stopped.close();

    const second = await dispatchers.start(['--pool', '1', '--port', port], dataDir);
    // At once, before any peer is back: no ticket to a peer that is not there yet.
    for (const [i, user] of users.entries()) {
      const go = await user.web.get('/go');
      expect(go.headers.get('location'), `user ${i}`).toBe('/starting');
      expect((await user.web.get('/starting')).status).toBe(200);
      // An old bookmark of the chat page goes the same way; the page's API calls hear "try again".
      const bookmark = await user.web.get(`/p/${peers[i]}/`, { accept: 'text/html' });
      expect([bookmark.status, bookmark.headers.get('location')]).toEqual([303, '/go']);
      const api = await user.web.get(`/p/${peers[i]}/api/self`, { accept: '*/*' });
      expect(api.status).toBe(503);
      expect(api.headers.get('retry-after')).toBe('2');
    }
    // The progress stream says "ready" once each user's own peer is back; /go then lets them in.
    for (const [i, user] of users.entries()) {
      const events = await readEvents(await user.web.get('/starting/events'), (event) => event !== 'progress');
      expect(events.at(-1)).toEqual({ event: 'ready', data: { url: '/go' } });
      const go = await user.web.get('/go');
      expect(TICKET_PATH.exec(go.headers.get('location') ?? '')?.[1]).toBe(peers[i]);
      const { response } = await user.web.follow(await user.web.get(go.headers.get('location') as string));
      expect(response.status).toBe(200);
      expect(await (await user.web.get(`/p/${peers[i]}/api/self`)).json()).toMatchObject({ id: peers[i] });
    }
    // Nothing new was started for them: the same peers as before the restart, theirs and the pool's.
    await vacantPeers(second, 1);
    expect(before).toEqual(expect.arrayContaining(peers));
    expect((await second.app.dispatcher.catalog.list()).map((p) => p.id).sort()).toEqual(before);
  });

  it('sends a person opening a peer that is not here to the way in, and tells scripts to try again', async () => {
    const d = await dispatchers.start(['--pool', '0']);
    const web = new WebClient(d.url);
    const missing = 'a'.repeat(32);
    const page = await web.get(`/p/${missing}/`, { accept: 'text/html,application/xhtml+xml' });
    expect([page.status, page.headers.get('location')]).toEqual([303, '/go']);
    const { visited } = await web.follow(page);
    expect(visited).toEqual(['/go', '/?next=/go']);
    const api = await web.post(`/p/${missing}/api/send`, { text: 'hello' });
    expect(api.status).toBe(503);
    expect(await api.json()).toMatchObject({ error: expect.stringContaining('try again') });
  });
});
