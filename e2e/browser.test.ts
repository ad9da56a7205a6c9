import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Cookie } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { holdRequests, launchChromium } from './helpers/browser.js';
import {
  DISCOVERY_TIMEOUT_MS,
  messageTexts,
  messageWithText,
  openConversation,
  peerItem,
  sendMessage,
} from './helpers/chat-page.js';
import { type StartedDispatcher, startDispatcher } from './helpers/dispatcher.js';
import { landOnPeerPage, signUp, submitLoginForm, type User } from './helpers/users.js';

/** Peers to hand out or start (seconds each on a busy machine), discovery, a round of receipts. */
const BROWSER_TEST_TIMEOUT_MS = 90_000;

let browser: Browser | undefined;
let dispatcher: StartedDispatcher | undefined;
/** The dispatchers running now, whose logs a failed test prints. */
const running = new Set<StartedDispatcher>();
/** Every user's context of the current test, closed after it. */
const contexts: BrowserContext[] = [];

async function start(init: { pool: number }): Promise<StartedDispatcher> {
  const started = await startDispatcher(init);
  running.add(started);
  return started;
}

async function stop(started: StartedDispatcher | undefined): Promise<void> {
  if (!started) return;
  running.delete(started);
  const exit = await started.stop();
  expect(exit, 'the dispatcher stops cleanly on SIGTERM').toEqual({ code: 0, signal: null });
}

function base(): string {
  if (!dispatcher) throw new Error('no dispatcher: beforeAll failed');
  return dispatcher.url;
}

/** A browser context of a user's own (own cookies), closed after the test. */
async function newUserContext(): Promise<BrowserContext> {
  if (!browser) throw new Error('no browser: beforeAll failed');
  const context = await browser.newContext();
  contexts.push(context);
  return context;
}

/** Two users signed up at the same time, each on their own peer's chat page. */
async function twoUsers(): Promise<[User, User]> {
  const [first, second] = await Promise.all([newUserContext(), newUserContext()]);
  return Promise.all([signUp(first, base()), signUp(second, base())]);
}

/** Text no other test sends. */
function unique(text: string): string {
  return `${text} ${randomBytes(4).toString('hex')}`;
}

/**
 * The same cookie with one character of its value changed: a base64 character of the sealed
 * session (the value is URL-encoded base64), a quarter of the way in, where every bit counts.
 */
function tampered(cookie: Cookie): Cookie {
  const sealed = decodeURIComponent(cookie.value);
  let at = Math.floor(sealed.length / 4);
  while (at < sealed.length && !/[A-Za-z0-9]/.test(sealed.charAt(at))) at++;
  const flipped = sealed.charAt(at) === 'A' ? 'B' : 'A';
  return { ...cookie, value: encodeURIComponent(`${sealed.slice(0, at)}${flipped}${sealed.slice(at + 1)}`) };
}

beforeAll(async () => {
  // Both are kept even when the other fails, so that afterAll ends what did start.
  const [launched, started] = await Promise.allSettled([launchChromium(), start({ pool: 2 })]);
  if (launched.status === 'fulfilled') browser = launched.value;
  if (started.status === 'fulfilled') dispatcher = started.value;
  for (const result of [launched, started]) if (result.status === 'rejected') throw result.reason;
});

afterAll(async () => {
  await browser?.close();
  await stop(dispatcher);
});

beforeEach(({ onTestFailed }) => {
  onTestFailed(async () => {
    for (const started of running) process.stderr.write(`${await started.logTail()}\n`);
  });
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
});

describe('the messenger in a browser, through the dispatcher', () => {
  it(
    'two new users land on their own peers, chat both ways with delivered and read marks, and keep the history after a reload',
    async () => {
      const [a, b] = await twoUsers();
      for (const user of [a, b]) expect(new URL(user.page.url()).pathname).toBe(`/p/${user.peerId}/`);
      expect(a.peerId).not.toBe(b.peerId);
      await peerItem(a.page, b.peerId).waitFor({ timeout: DISCOVERY_TIMEOUT_MS });
      await peerItem(b.page, a.peerId).waitFor({ timeout: DISCOVERY_TIMEOUT_MS });
      await openConversation(a.page, b.peerId);

      const hello = unique('hello from A');
      const sent = await sendMessage(a.page, hello);
      // B's peer has it, but B has not opened the conversation yet: delivered, not read.
      await expect.poll(() => sent.getAttribute('data-state'), { timeout: DISCOVERY_TIMEOUT_MS }).toBe('delivered');
      await openConversation(b.page, a.peerId);
      await expect.poll(() => messageTexts(b.page)).toEqual([hello]);
      await expect.poll(() => sent.getAttribute('data-state'), { timeout: DISCOVERY_TIMEOUT_MS }).toBe('read');

      const reply = unique('and back from B');
      await sendMessage(b.page, reply);
      await expect.poll(() => messageTexts(a.page), { timeout: DISCOVERY_TIMEOUT_MS }).toEqual([hello, reply]);

      for (const [user, other] of [
        [a, b],
        [b, a],
      ] as const) {
        await user.page.reload();
        expect(await landOnPeerPage(user.page)).toBe(user.peerId);
        await openConversation(user.page, other.peerId);
        await expect.poll(() => messageTexts(user.page)).toEqual([hello, reply]);
      }
      expect(await messageWithText(a.page, hello).getAttribute('data-state')).toBe('read');
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    "another user's peer answers 401 or 403 and shows none of its messages, even with the user's own peer cookie",
    async () => {
      const [a, b] = await twoUsers();
      await openConversation(b.page, a.peerId);
      const secret = unique('for A only, from B');
      const sent = await sendMessage(b.page, secret);
      await expect.poll(() => sent.getAttribute('data-state'), { timeout: DISCOVERY_TIMEOUT_MS }).toBe('delivered');
      const bPeer = `${base()}/p/${b.peerId}/`;
      const history = `${bPeer}api/history/${a.peerId}`;
      // The check below would see the message: B itself gets it there.
      expect(await (await b.context.request.get(history)).text()).toContain(secret);

      const tryBoth = async () => {
        for (const url of [bPeer, history]) {
          const response = await a.page.goto(url);
          expect([401, 403], url).toContain(response?.status());
          expect(await response?.text(), url).not.toContain(secret);
        }
      };
      await tryBoth();
      // A's own peer cookie, sent to B's peer as well: it opens A's peer only.
      const owner = (await a.context.cookies(`${base()}/p/${a.peerId}/`)).find((c) => c.name === 'p2pm_owner');
      expect(owner, "A's peer cookie").toBeDefined();
      if (owner) await a.context.addCookies([{ ...owner, path: `/p/${b.peerId}/` }]);
      await tryBoth();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'a tampered dispatcher session cookie counts as logged out: the front page asks to log in, /go leads there',
    async () => {
      const user = await signUp(await newUserContext(), base());
      const session = (await user.context.cookies(base())).find((c) => c.name === 'p2pm_session');
      expect(session, 'the dispatcher session cookie').toBeDefined();
      if (!session) return;
      await user.page.goto(`${base()}/`);
      await expect.poll(() => user.page.getByTestId('current-user').textContent()).toBe(user.username);

      const forgery = tampered(session);
      expect(forgery.value).not.toBe(session.value);
      const forged = await newUserContext();
      await forged.addCookies([forgery]);
      const page = await forged.newPage();
      const front = await page.goto(`${base()}/`);
      expect(front?.status()).toBe(200);
      await page.getByTestId('username').waitFor();
      expect(await page.getByTestId('current-user').count()).toBe(0);

      await page.goto(`${base()}/go`);
      const landed = new URL(page.url());
      expect(landed.pathname + landed.search).toBe('/?next=/go');
      await page.getByTestId('login').waitFor();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'HTML and script in a message show as literal text, create no elements and run nothing',
    async () => {
      const [a, b] = await twoUsers();
      const payload = unique('<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script><b>bold</b>');
      await openConversation(a.page, b.peerId);
      await sendMessage(a.page, payload);
      await openConversation(b.page, a.peerId);
      await expect.poll(() => messageTexts(b.page), { timeout: DISCOVERY_TIMEOUT_MS }).toEqual([payload]);

      for (const page of [a.page, b.page]) {
        expect(await messageTexts(page)).toEqual([payload]);
        expect(await page.getByTestId('message-list').locator('b, img, script').count()).toBe(0);
        expect(await page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned)).toBeUndefined();
      }
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'logging out and back in with the password returns to the same peer and its history; a wrong password is refused',
    async () => {
      const [a, b] = await twoUsers();
      await openConversation(a.page, b.peerId);
      const note = unique('before logging out');
      await sendMessage(a.page, note);

      await a.page.goto(`${base()}/`);
      await expect.poll(() => a.page.getByTestId('current-user').textContent()).toBe(a.username);
      await a.page.getByTestId('logout').click();
      await a.page.getByTestId('login').waitFor();

      const wrongPassword = { username: a.username, password: `${a.password}x` };
      const refused = await submitLoginForm(a.page, base(), wrongPassword, 'login');
      expect(refused.status()).toBe(401);
      await a.page.getByTestId('problem').waitFor();
      expect(new URL(a.page.url()).pathname).toBe('/login');
      await a.page.getByTestId('login').waitFor();

      await submitLoginForm(a.page, base(), a, 'login');
      expect(await landOnPeerPage(a.page)).toBe(a.peerId);
      await openConversation(a.page, b.peerId);
      await expect.poll(() => messageTexts(a.page)).toEqual([note]);
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'a page whose live stream was not yet through catches up once it is: the peer found and the message received meanwhile show',
    async () => {
      const context = await newUserContext();
      const release = await holdRequests(context, '**/api/events');
      const a = await signUp(context, base());
      const b = await signUp(await newUserContext(), base());
      const aPeers = `${base()}/p/${a.peerId}/api/peers`;
      await expect
        .poll(async () => ((await (await context.request.get(aPeers)).json()) as { id: string }[]).map((p) => p.id), {
          timeout: DISCOVERY_TIMEOUT_MS,
        })
        .toContain(b.peerId);
      await openConversation(b.page, a.peerId);
      const hello = unique('while your page was not listening');
      const sent = await sendMessage(b.page, hello);
      await expect.poll(() => sent.getAttribute('data-state'), { timeout: DISCOVERY_TIMEOUT_MS }).toBe('delivered');
      // A's page loaded before either happened, and has been told of neither.
      expect(await peerItem(a.page, b.peerId).count()).toBe(0);

      release();
      await expect.poll(() => peerItem(a.page, b.peerId).locator('.unread').textContent()).toBe('1');
      await openConversation(a.page, b.peerId);
      await expect.poll(() => messageTexts(a.page)).toEqual([hello]);
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'logging out of the dispatcher also closes the peer in that browser',
    async () => {
      const user = await signUp(await newUserContext(), base());
      await user.page.goto(`${base()}/`);
      await user.page.getByTestId('logout').click();
      await user.page.getByTestId('login').waitFor();
      const after = await user.page.goto(`${base()}/p/${user.peerId}/api/self`);
      expect([401, 403]).toContain(after?.status());
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  describe('with no vacant peer ready (--pool 0)', () => {
    let empty: StartedDispatcher | undefined;

    beforeAll(async () => {
      empty = await start({ pool: 0 });
    });

    afterAll(async () => {
      await stop(empty);
    });

    it(
      'a guest gets the progress page, which goes on to their new peer by itself',
      async () => {
        if (!empty) throw new Error('no dispatcher: beforeAll failed');
        const page = await (await newUserContext()).newPage();
        await page.goto(`${empty.url}/`);
        // Progress comes by server-sent events, and "ready" may come at once: hold the stream back
        // until the page has been seen, then let it go on without any more help.
        const release = await holdRequests(page, '**/starting/events');
        await page.getByTestId('guest').click();
        await page.waitForURL(`${empty.url}/starting`);
        await page.getByTestId('progress').waitFor();
        await page.getByTestId('progress-text').waitFor();
        release();
        const peerId = await landOnPeerPage(page);
        expect(new URL(page.url()).pathname).toBe(`/p/${peerId}/`);
      },
      BROWSER_TEST_TIMEOUT_MS,
    );
  });
});
