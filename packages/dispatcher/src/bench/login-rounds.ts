import { Browser } from './browser.js';

/** Where a log-in lands: the ticket into the user's own peer. */
export const TICKET_URL = /^\/p\/([a-z2-7]{16,64})\/login\?ticket=[^&]+$/;

function expect(condition: boolean, what: string): void {
  if (!condition) throw new Error(what);
}

/**
 * One guest, cold: from the log-in, through the progress stream, /go and the ticket, to the
 * first answer of their new peer (its /api/self, through the dispatcher), in ms.
 */
export async function coldLogin(url: string, signal: AbortSignal): Promise<number> {
  const browser = new Browser(url);
  try {
    const csrf = await browser.openFront();
    const begun = performance.now();
    const guest = await browser.send('/guest', { form: { _csrf: csrf } });
    expect(guest.status === 303 && guest.location === '/starting', `POST /guest: ${guest.status} to ${guest.location}`);
    const ready = await browser.waitForEvent('/starting/events', ['ready', 'busy'], signal);
    const next = (ready.data as { url?: unknown }).url;
    expect(ready.event === 'ready' && typeof next === 'string', `the progress stream said ${JSON.stringify(ready)}`);
    const go = await browser.send(next as string);
    const peerId = TICKET_URL.exec(go.location ?? '')?.[1];
    expect(go.status === 303 && !!peerId, `GET /go: ${go.status} to ${go.location}`);
    const login = await browser.send(go.location as string);
    expect(login.status === 303 && !!browser.cookie('p2pm_owner'), `the ticket: ${login.status}, no owner cookie`);
    const self = await browser.send(`/p/${peerId}/api/self`);
    expect(self.status === 200 && self.contentType.startsWith('application/json'), `api/self: ${self.status}`);
    return performance.now() - begun;
  } finally {
    browser.close();
  }
}

export interface WarmRound {
  latencies: number[];
  failures: string[];
}

type LogIn = { ms: number } | { failure: string };

/** `users` browsers open the front page, then all log in as guests at once; each log-in is timed. */
export async function warmRound(url: string, users: number): Promise<WarmRound> {
  const browsers = Array.from({ length: users }, () => new Browser(url));
  try {
    const tokens = await Promise.all(browsers.map((browser) => browser.openFront()));
    const outcomes = await Promise.all(
      browsers.map(async (browser, i): Promise<LogIn> => {
        const begun = performance.now();
        try {
          const reply = await browser.send('/guest', { form: { _csrf: tokens[i] as string } });
          const ms = performance.now() - begun;
          const ok = reply.status === 303 && TICKET_URL.test(reply.location ?? '');
          return ok ? { ms } : { failure: `${reply.status} to ${reply.location}` };
        } catch (err) {
          return { failure: (err as Error).message };
        }
      }),
    );
    return {
      latencies: outcomes.flatMap((o) => ('ms' in o ? [o.ms] : [])),
      failures: outcomes.flatMap((o) => ('failure' in o ? [o.failure] : [])),
    };
  } finally {
    for (const browser of browsers) browser.close();
  }
}
