import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedNextValues, NEXT_TRICKS, staysOnSite } from '../packages/dispatcher/test/helpers/next-values.js';
import { WebClient } from '../packages/dispatcher/test/helpers/web-client.js';
import { launchChromium } from './helpers/browser.js';
import { type StartedDispatcher, startDispatcher } from './helpers/dispatcher.js';
import { newCredentials } from './helpers/users.js';

/** A seed of its own, printed with any failure: the same values come back with it. */
const SEED = 20_261_202;
const GENERATED = 120;
/** Each value costs a log-in (a password hash) and, in the browser, a navigation; CI shares two cores. */
const BROWSER_TEST_TIMEOUT_MS = 180_000;

let browser: Browser | undefined;
let dispatcher: StartedDispatcher | undefined;
const user = newCredentials();

function base(): string {
  if (!dispatcher) throw new Error('no dispatcher: beforeAll failed');
  return dispatcher.url;
}

/** The Location a log-in with this `next=` answers (one account, so no peer is started per value). */
async function locationAfterLogin(next: string): Promise<string> {
  const web = new WebClient(base());
  const response = await web.post('/login', { _csrf: await web.csrf(), ...user, next });
  expect(response.status, JSON.stringify(next)).toBe(303);
  return response.headers.get('location') ?? '';
}

/**
 * A context whose requests to any other origin are refused and recorded: nothing leaves
 * loopback. The peer's pages are answered by a stand-in page: where the browser went is what
 * counts, not the chat page loading.
 */
async function guardedContext(escaped: string[]): Promise<BrowserContext> {
  if (!browser) throw new Error('no browser: beforeAll failed');
  const context = await browser.newContext();
  const origin = new URL(base()).origin;
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.origin !== origin) {
      escaped.push(url.href);
      return route.abort('blockedbyclient');
    }
    if (url.pathname.startsWith('/p/')) return route.fulfill({ contentType: 'text/html', body: '<p>peer</p>' });
    return route.continue();
  });
  return context;
}

beforeAll(async () => {
  const [launched, started] = await Promise.allSettled([launchChromium(), startDispatcher({ pool: 1 })]);
  if (launched.status === 'fulfilled') browser = launched.value;
  if (started.status === 'fulfilled') dispatcher = started.value;
  for (const result of [launched, started]) if (result.status === 'rejected') throw result.reason;
  const web = new WebClient(base());
  const signup = await web.post('/signup', { _csrf: await web.csrf(), ...user });
  expect(signup.status).toBe(303);
});

afterAll(async () => {
  await browser?.close();
  await dispatcher?.stop();
});

describe('next= in a real browser', () => {
  it('no Location sent for generated values resolves to another origin in Chromium', {
    timeout: BROWSER_TEST_TIMEOUT_MS,
  }, async () => {
    const values = [...NEXT_TRICKS, ...generatedNextValues(SEED, GENERATED)];
    // A few at a time: each log-in hashes a password (scrypt, on the thread pool).
    const locations: string[] = [];
    for (let at = 0; at < values.length; at += 4) {
      locations.push(...(await Promise.all(values.slice(at, at + 4).map(locationAfterLogin))));
    }
    for (const [i, location] of locations.entries()) {
      expect(staysOnSite(location, `${base()}/login`), `seed ${SEED}: ${JSON.stringify(values[i])}`).toBe(true);
    }
    const escaped: string[] = [];
    const context = await guardedContext(escaped);
    try {
      const page = await context.newPage();
      await page.goto(`${base()}/`);
      // Chromium's own URL parser, resolving each against the address the redirect answers.
      const origins = await page.evaluate(({ all, from }) => all.map((location) => new URL(location, from).origin), {
        all: locations,
        from: `${base()}/login`,
      });
      for (const [i, origin] of origins.entries()) {
        expect(origin, `seed ${SEED}: ${JSON.stringify(values[i])} -> ${locations[i]}`).toBe(new URL(base()).origin);
      }
    } finally {
      await context.close();
    }
    expect(escaped).toEqual([]);
  });

  it(
    'a user who follows a crafted link and logs in stays on the site, for every trick',
    async () => {
      const escaped: string[] = [];
      const context = await guardedContext(escaped);
      try {
        const page = await context.newPage();
        for (const trick of NEXT_TRICKS) {
          await context.clearCookies();
          await page.goto(`${base()}/?next=${encodeURIComponent(trick)}`);
          await page.getByTestId('username').fill(user.username);
          await page.getByTestId('password').fill(user.password);
          await Promise.all([
            page.waitForURL((url) => url.pathname !== '/', { timeout: 15_000 }).catch(() => {}),
            page.getByTestId('login').click(),
          ]);
          const what = `${JSON.stringify(trick)} -> ${page.url()}`;
          expect(new URL(page.url()).origin, what).toBe(new URL(base()).origin);
          expect(escaped, what).toEqual([]);
        }
      } finally {
        await context.close();
      }
    },
    BROWSER_TEST_TIMEOUT_MS,
  );
});
