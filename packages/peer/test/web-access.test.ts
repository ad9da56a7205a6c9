import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Peer } from '../src/index.js';
import { issueTicket } from '../src/web/ticket.js';
import { TestResources } from './helpers/resources.js';

const dispatcher = generateKeyPairSync('ed25519');
const dispatcherKeyPem = dispatcher.publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe("the peer's web server lets in its owner only", () => {
  const resources = new TestResources();
  afterEach(() => resources.cleanup());

  async function startPeer(name: string, web: { dispatcherUrl?: string } = {}): Promise<{ peer: Peer; base: string }> {
    const peer = new Peer({
      name,
      dataDir: join(await resources.dir(), name),
      listenHost: '127.0.0.1',
      web: { port: 0, dispatcherKeyPem, ...web },
      logger: pino({ level: 'silent' }),
    });
    await peer.start();
    resources.onCleanup(() => peer.stop());
    return { peer, base: `http://127.0.0.1:${peer.webPort}` };
  }

  const get = (url: string, cookie?: string) => fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });

  it('takes a ticket once, sets a strict HttpOnly cookie for itself, and serves the API with it', async () => {
    const { peer, base } = await startPeer('ada');
    expect((await get(`${base}/api/self`)).status).toBe(401);
    const ticket = issueTicket(dispatcher.privateKey, { peerId: peer.id, owner: 'user-1' });
    const login = await get(`${base}/p/${peer.id}/login?ticket=${ticket}`);
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe(`/p/${peer.id}/`);
    const setCookie = login.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(new RegExp(`Path=/p/${peer.id}/`));
    const cookie = setCookie.split(';')[0] as string;
    const self = await get(`${base}/p/${peer.id}/api/self`, cookie);
    expect(self.status).toBe(200);
    expect(await self.json()).toMatchObject({ id: peer.id, name: 'ada', fingerprint: peer.fingerprint });
    // The same ticket again, even with a valid cookie around: refused.
    expect((await get(`${base}/p/${peer.id}/login?ticket=${ticket}`)).status).toBe(403);
  });

  it('refuses forged, misdirected and malformed tickets, bad cookies, and bad sends', async () => {
    const { peer, base } = await startPeer('ada');
    const other = await startPeer('bob');
    const stranger = generateKeyPairSync('ed25519');
    const forged = issueTicket(stranger.privateKey, { peerId: peer.id, owner: 'eve' });
    const forBob = issueTicket(dispatcher.privateKey, { peerId: other.peer.id, owner: 'user-2' });
    for (const ticket of [forged, forBob, 'garbage', '']) {
      expect((await get(`${base}/login?ticket=${encodeURIComponent(ticket)}`)).status).toBe(403);
    }
    expect((await get(`${base}/login`)).status).toBe(400);
    expect((await get(`${base}/api/peers`, 'p2pm_owner=made-up')).status).toBe(401);
    // A cookie for bob's peer does not open ada's.
    const bobLogin = await get(`${other.base}/login?ticket=${forBob}`);
    const bobCookie = (bobLogin.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect((await get(`${base}/api/self`, bobCookie)).status).toBe(401);

    const ticket = issueTicket(dispatcher.privateKey, { peerId: peer.id, owner: 'user-1' });
    const cookie = ((await get(`${base}/login?ticket=${ticket}`)).headers.get('set-cookie') ?? '').split(';')[0];
    const send = (body: string) =>
      fetch(`${base}/api/send`, {
        method: 'POST',
        body,
        headers: { cookie: cookie ?? '', 'content-type': 'application/json' },
      });
    expect((await send('{"peerId": 1}')).status).toBe(400);
    expect((await send('not json')).status).toBe(400);
    expect((await send(JSON.stringify({ peerId: 'nobody', text: 'hi' }))).status).toBe(422);
  });

  it('lets a standalone owner in once with the printed login link', async () => {
    const { peer, base } = await startPeer('ada');
    const path = peer.loginPath() as string;
    const login = await get(`${base}${path}`);
    expect(login.status).toBe(303);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect((await get(`${base}/api/peers`, cookie)).status).toBe(200);
    expect((await get(`${base}${path}`)).status).toBe(403);
  });

  it('streams new messages and delivery states to the owner as server-sent events', async () => {
    const { peer, base } = await startPeer('ada');
    const bob = new Peer({
      name: 'bob',
      dataDir: join(await resources.dir(), 'bob'),
      listenHost: '127.0.0.1',
      logger: pino({ level: 'silent' }),
    });
    await bob.start();
    resources.onCleanup(() => bob.stop());
    expect((await get(`${base}/api/events`)).status).toBe(401);
    const ticket = issueTicket(dispatcher.privateKey, { peerId: peer.id, owner: 'user-1' });
    const cookie = ((await get(`${base}/login?ticket=${ticket}`)).headers.get('set-cookie') ?? '').split(
      ';',
    )[0] as string;
    const abort = new AbortController();
    resources.onCleanup(() => abort.abort());
    const events = await fetch(`${base}/api/events`, { headers: { cookie }, signal: abort.signal });
    expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = (events.body as ReadableStream<Uint8Array>).getReader();
    let seen = '';
    const until = async (pattern: RegExp) => {
      while (!pattern.test(seen)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}`);
        seen += Buffer.from(value).toString('utf8');
      }
    };
    await bob.contact(`127.0.0.1:${peer.greetingPort}`);
    await bob.send(peer.id, '<b>hello</b> ada');
    await until(/event: message\ndata: .*"text":"<b>hello<\/b> ada"/);
    const sent = await fetch(`${base}/api/send`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ peerId: bob.id, text: 'hi bob' }),
    });
    const { id } = (await sent.json()) as { id: string };
    await until(new RegExp(`event: state\ndata: \\{"messageId":"${id}","peerId":"${bob.id}","state":"delivered"`));
    abort.abort();
  });

  it('serves the chat page, its script and the QR code to the owner only, with a strict CSP', async () => {
    const { peer, base } = await startPeer('ada');
    for (const path of ['/', '/app.js', '/app.css', '/api/qr', `/p/${peer.id}/`]) {
      const denied = await get(`${base}${path}`);
      expect(denied.status).toBe(401);
      expect(await denied.text()).not.toMatch(/data-testid|EventSource|<svg/);
    }
    const ticket = issueTicket(dispatcher.privateKey, { peerId: peer.id, owner: 'user-1' });
    const cookie = ((await get(`${base}/p/${peer.id}/login?ticket=${ticket}`)).headers.get('set-cookie') ?? '').split(
      ';',
    )[0] as string;
    const page = await get(`${base}/p/${peer.id}/`, cookie);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const html = await page.text();
    for (const id of ['peer-list', 'message-input', 'send-button', 'message-list', 'my-peer-id', 'my-fingerprint']) {
      expect(html).toContain(`data-testid="${id}"`);
    }
    const script = await (await get(`${base}/p/${peer.id}/app.js`, cookie)).text();
    expect(script).toContain("'data-testid': 'peer-item'");
    expect(script).not.toMatch(/innerHTML/);
    const qr = await get(`${base}/p/${peer.id}/api/qr`, cookie);
    expect(qr.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(await qr.text()).toMatch(/^<svg/);
    const read = await fetch(`${base}/p/${peer.id}/api/read/nobody`, { method: 'POST', headers: { cookie } });
    expect(await read.json()).toEqual({ read: 0 });
  });

  it("logs out for good, back to the dispatcher's page: / beside a path-routing dispatcher, its URL when the peer has a host of its own", async () => {
    const logOut = async (peer: Peer, base: string) => {
      const ticket = issueTicket(dispatcher.privateKey, { peerId: peer.id, owner: 'user-1' });
      const login = await get(`${base}/p/${peer.id}/login?ticket=${ticket}`);
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
      const out = await get(`${base}/p/${peer.id}/logout`, cookie);
      expect(out.status).toBe(303);
      expect(out.headers.get('set-cookie')).toMatch(new RegExp(`p2pm_owner=;.*Path=/p/${peer.id}/`));
      expect((await get(`${base}/p/${peer.id}/api/self`, cookie)).status).toBe(401);
      return out.headers.get('location');
    };
    const embedded = await startPeer('ada');
    expect(await logOut(embedded.peer, embedded.base)).toBe('/');
    const ownHost = await startPeer('bob', { dispatcherUrl: 'https://chat.example.com/' });
    expect(await logOut(ownHost.peer, ownHost.base)).toBe('https://chat.example.com/');
  });
});
