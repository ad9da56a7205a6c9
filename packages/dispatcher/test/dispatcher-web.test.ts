import { afterEach, describe, expect, it } from 'vitest';
import { NEXT_TRICKS } from './helpers/next-values.js';
import { TestDispatchers, vacantPeers } from './helpers/test-dispatcher.js';
import { WebClient } from './helpers/web-client.js';

const TICKET_PATH = /^\/p\/([a-z2-7]{32})\/login\?ticket=[\w.%-]+$/;

/**
 * One character of a cookie changed where every bit counts: the last base64url character of
 * a signature may carry padding bits, so changing it can leave the decoded bytes as they were.
 */
function tampered(value: string): string {
  const at = Math.floor(value.length / 2);
  return `${value.slice(0, at)}${value[at] === 'A' ? 'B' : 'A'}${value.slice(at + 1)}`;
}

describe('the dispatcher: accounts, sessions and CSRF', () => {
  const dispatchers = new TestDispatchers();
  afterEach(() => dispatchers.cleanup());

  it('shows the login form with a CSRF token, and refuses every POST without a valid one', async () => {
    const d = await dispatchers.start(['--pool', '0']);
    const web = new WebClient(d.url);
    const page = await web.get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    for (const id of ['username', 'password', 'login', 'signup', 'guest'])
      expect(html).toContain(`data-testid="${id}"`);
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] as string;

    // A cross-site form: the browser sends the cookie along, but the attacker cannot know the token.
    for (const path of ['/guest', '/login', '/signup', '/logout']) {
      const forged = await web.post(
        path,
        { username: 'mallory', password: 'long enough pass' },
        { origin: 'https://evil.example' },
      );
      expect(forged.status, path).toBe(403);
      expect(await forged.text()).toContain('did not come from this site');
    }
    // A token from another session does not do either.
    const other = new WebClient(d.url);
    const otherToken = await other.csrf();
    expect((await web.post('/guest', { _csrf: otherToken })).status).toBe(403);
    // Nor a tampered one.
    expect((await web.post('/guest', { _csrf: `${token.slice(0, -2)}xx` })).status).toBe(403);
    // The right one does.
    expect((await web.post('/guest', { _csrf: token })).status).toBe(303);
  });

  it('signs up, refuses taken names and wrong passwords, throttles guessing, logs out', async () => {
    const d = await dispatchers.start(['--pool', '1']);
    await vacantPeers(d, 1);
    const ada = new WebClient(d.url);
    const signup = await ada.post('/signup', {
      _csrf: await ada.csrf(),
      username: 'Ada',
      password: 'correct horse battery',
    });
    expect(signup.status).toBe(303);
    const [, peerId] = TICKET_PATH.exec(signup.headers.get('location') ?? '') ?? [];
    expect(peerId).toBeDefined();

    const eve = new WebClient(d.url);
    const taken = await eve.post('/signup', { _csrf: await eve.csrf(), username: 'ada', password: 'another password' });
    expect(taken.status).toBe(409);
    expect(await taken.text()).toContain('is taken');
    const short = await eve.post('/signup', { _csrf: await eve.csrf(), username: 'eve', password: 'short' });
    expect(short.status).toBe(400);

    // Wrong passwords: refused, the same answer as for an unknown name, then throttled.
    const unknown = await eve.post('/login', {
      _csrf: await eve.csrf(),
      username: 'nobody',
      password: 'whatever it is',
    });
    expect(unknown.status).toBe(401);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const wrong = await eve.post('/login', {
        _csrf: await eve.csrf(),
        username: 'ada',
        password: `guess number ${i}`,
      });
      statuses.push(wrong.status);
      expect(await wrong.text()).not.toContain('data-testid="current-user"');
    }
    // Five failures cost nothing; the sixth makes the next attempt wait.
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401]);
    const throttled = await eve.post('/login', {
      _csrf: await eve.csrf(),
      username: 'ada',
      password: 'correct horse battery',
    });
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    // The same address, another account: not under attack, so let in.
    const bob = new WebClient(d.url);
    await bob.post('/signup', { _csrf: await bob.csrf(), username: 'bob', password: 'bob has a password' });
    const bobAgain = new WebClient(d.url);
    const bobLogin = await bobAgain.post('/login', {
      _csrf: await bobAgain.csrf(),
      username: 'bob',
      password: 'bob has a password',
    });
    expect(bobLogin.status).toBe(303);
    // Ada's own browser, which logged in to her account before, is let in while eve waits.
    expect(ada.cookies.has('p2pm_device')).toBe(true);
    const adaLogin = await ada.post('/login', {
      _csrf: await ada.csrf(),
      username: 'ada',
      password: 'correct horse battery',
    });
    expect(adaLogin.status).toBe(303);
    // A device cookie made up, or one of another account, buys eve nothing.
    eve.cookies.set('p2pm_device', { value: tampered(ada.cookies.get('p2pm_device')?.value ?? ''), path: '/' });
    expect(
      (await eve.post('/login', { _csrf: await eve.csrf(), username: 'ada', password: 'guess again' })).status,
    ).toBe(429);
    eve.cookies.set('p2pm_device', bobAgain.cookies.get('p2pm_device') ?? { value: '', path: '/' });
    expect(
      (await eve.post('/login', { _csrf: await eve.csrf(), username: 'ada', password: 'guess again' })).status,
    ).toBe(429);

    // Ada is still logged in, goes back to the same peer, and logs out.
    const home = await (await ada.get('/')).text();
    expect(home).toContain('data-testid="current-user">ada<');
    const again = await ada.get('/go');
    expect(TICKET_PATH.exec(again.headers.get('location') ?? '')?.[1]).toBe(peerId);
    await ada.follow(await ada.get(again.headers.get('location') as string));
    const peerCookie = ada.cookies.get('p2pm_owner')?.value as string;
    expect((await ada.get(`/p/${peerId}/api/self`)).status).toBe(200);
    // Logging out passes through the peer, which ends its own session in this browser too.
    const logout = await ada.post('/logout', { _csrf: await ada.csrf() });
    expect(logout.status).toBe(303);
    const { visited } = await ada.follow(logout);
    expect(visited).toEqual([`/p/${peerId}/logout`, '/']);
    expect(ada.cookies.has('p2pm_owner')).toBe(false);
    expect((await ada.get('/go')).headers.get('location')).toBe('/?next=/go');
    // The old peer cookie, kept by someone, opens nothing any more.
    const kept = await fetch(`${d.url}/p/${peerId}/api/self`, { headers: { cookie: `p2pm_owner=${peerCookie}` } });
    expect(kept.status).toBe(401);
  });

  it('takes the client address from X-Forwarded-For only from a trusted proxy', async () => {
    const failAt = async (web: WebClient, clientAddress: string, username: string, password = 'not the password') =>
      (await web.post('/login', { _csrf: await web.csrf(), username, password }, { 'x-forwarded-for': clientAddress }))
        .status;
    // By default the header is anybody's to write: the client is the socket's peer, whatever it says.
    const open = await dispatchers.start(['--pool', '0', '--login-address-attempts', '3']);
    const anyone = new WebClient(open.url);
    for (const name of ['name1', 'name2', 'name3', 'name4'])
      expect(await failAt(anyone, '198.51.100.1', name)).toBe(401);
    expect(await failAt(anyone, '198.51.100.2', 'name5')).toBe(429);

    // Behind a trusted proxy, each client has its own budget.
    const behind = await dispatchers.start([
      '--pool',
      '0',
      '--login-address-attempts',
      '3',
      '--trust-proxy',
      '127.0.0.1, ::1',
    ]);
    const proxy = new WebClient(behind.url);
    await proxy.post('/signup', { _csrf: await proxy.csrf(), username: 'carol', password: 'carol has a password' });
    for (const name of ['name1', 'name2', 'name3', 'name4'])
      expect(await failAt(proxy, '198.51.100.1', name)).toBe(401);
    expect(await failAt(proxy, '198.51.100.1', 'name5')).toBe(429);
    expect(await failAt(proxy, '198.51.100.2', 'name5')).toBe(401);
    const fresh = new WebClient(behind.url);
    expect(await failAt(fresh, '198.51.100.3', 'carol', 'carol has a password')).toBe(303);
  });

  it('answers a form too large with a page, and a script with JSON, both 413', async () => {
    const d = await dispatchers.start(['--pool', '0']);
    const web = new WebClient(d.url);
    const csrf = await web.csrf();
    const huge = 'x'.repeat(100 * 1024);
    for (const path of ['/login', '/signup', '/guest']) {
      const form = await web.post(path, { _csrf: csrf, username: huge, password: 'whatever it is' });
      expect(form.status, path).toBe(413);
      expect(form.headers.get('content-type')).toContain('text/html');
      const html = await form.text();
      expect(html).toContain('data-testid="problem"');
      expect(html).toContain('more than this form takes');
    }
    const json = await fetch(`${d.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: web.cookieHeader('/') },
      body: JSON.stringify({ _csrf: csrf, username: huge }),
    });
    expect(json.status).toBe(413);
    expect(await json.json()).toMatchObject({ error: expect.stringContaining('too large') });
    // Nothing was lost: the same browser logs in as a guest right after.
    expect((await web.post('/guest', { _csrf: await web.csrf() })).status).toBe(303);
  });

  it('treats a tampered or made-up session cookie as no session', async () => {
    const d = await dispatchers.start(['--pool', '1']);
    await vacantPeers(d, 1);
    const ada = new WebClient(d.url);
    expect((await ada.post('/guest', { _csrf: await ada.csrf() })).status).toBe(303);
    const session = ada.cookies.get('p2pm_session');
    expect(session).toBeDefined();
    const value = decodeURIComponent(session?.value ?? '');
    const flipped = `${value.slice(0, 10)}${value[10] === 'A' ? 'B' : 'A'}${value.slice(11)}`;
    for (const forged of [flipped, 'made-up', value.slice(0, -4), value.split(';').reverse().join(';'), '']) {
      const mallory = new WebClient(d.url);
      const go = await fetch(`${d.url}/go`, {
        redirect: 'manual',
        headers: { cookie: `p2pm_session=${encodeURIComponent(forged)}` },
      });
      expect(go.headers.get('location')).toBe('/?next=/go');
      const front = await mallory.get('/');
      expect(await front.text()).toContain('data-testid="login"');
    }
  });

  it('sends next= only to paths of this site, whatever the trick, in Location and in the form', async () => {
    const d = await dispatchers.start(['--pool', '0']);
    const host = new URL(d.url).host;
    const attacks = [...NEXT_TRICKS, `https://${host}//evil.example`, `http://${host}/.//evil.example`];
    const owner = new WebClient(d.url);
    await owner.post('/signup', { _csrf: await owner.csrf(), username: 'nextuser', password: 'a fine long password' });
    for (const next of attacks) {
      const web = new WebClient(d.url);
      const page = await (await web.get(`/?next=${encodeURIComponent(next)}`)).text();
      // The page carries only a judged value (here: none) for its forms to post back.
      for (const [, carried] of page.matchAll(/name="next" value="([^"]*)"/g)) expect(carried, next).toBe('');
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] as string;
      const login = await web.post('/login', {
        _csrf: csrf,
        username: 'nextuser',
        password: 'a fine long password',
        next,
      });
      expect(login.status, next).toBe(303);
      const location = login.headers.get('location') ?? '';
      // Never another site: the user's own way in (the progress page, or their peer once it runs).
      expect(location === '/starting' || TICKET_PATH.test(location), `${JSON.stringify(next)} -> ${location}`).toBe(
        true,
      );
    }
    // A legitimate next= is followed.
    const web = new WebClient(d.url);
    const login = await web.post('/guest', { _csrf: await web.csrf('/?next=/admin'), next: '/admin' });
    expect(login.headers.get('location')).toBe('/admin');
  });
});
