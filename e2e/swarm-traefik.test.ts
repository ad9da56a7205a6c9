import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeServiceLabels } from '../packages/dispatcher/src/index.js';
import { freePort } from '../packages/dispatcher/test/helpers/free-port.js';
import { getWithHost } from '../packages/dispatcher/test/helpers/host-get.js';
import { type TestSwarm, testSwarm } from '../packages/dispatcher/test/helpers/swarm.js';
import {
  type StartedTraefikStandIn,
  startTraefikStandIn,
} from '../packages/dispatcher/test/helpers/traefik-standin.js';
import { launchChromium } from './helpers/browser.js';
import { deployDispatcher, leftovers, NOTHING_LEFT, printDispatcherLogOnFailure } from './helpers/swarm-dispatcher.js';
import { landOnPeerPage } from './helpers/users.js';

/** A dispatcher service, the stand-in and peer services starting on a shared 2-core machine. */
const SWARM_TIMEOUT_MS = 240_000;
const DOMAIN = 'p2pm.test';
const PEERS_DOMAIN = `peers.${DOMAIN}`;
const CHAT_HOST = `chat.${DOMAIN}`;

let swarm: TestSwarm;
let traefik: StartedTraefikStandIn;
let port = 0;
let browser: Browser | undefined;

/** A GET to this host's published entry point, with the Host header a browser would send. */
const viaTraefik = (host: string, path: string, headers: Record<string, string> = {}) =>
  getWithHost(traefik.url, `${host}:${port}`, path, headers);

/**
 * The dispatcher as a Swarm service with --router traefik, its peers each on
 * `<peerId>.peers.p2pm.test`; itself behind the stand-in too, by labels of its own (as the stack
 * gives it), on `chat.p2pm.test`.
 */
async function deployBehindTraefik(): Promise<void> {
  const { name } = await deployDispatcher(swarm, {
    port: await freePort(),
    settings: {
      P2PM_PUBLIC_URL: `http://${CHAT_HOST}:${port}`,
      P2PM_ROUTER: 'traefik',
      P2PM_PEERS_DOMAIN: PEERS_DOMAIN,
      P2PM_TRAEFIK_URL: `http://${traefik.service}:80`,
      // One spare peer: of two guests at once, one waits on the progress page for a new one.
      P2PM_POOL_TARGET: '1',
    },
  });
  await changeServiceLabels(swarm.docker, name, (labels) => ({
    ...labels,
    'traefik.enable': 'true',
    [`traefik.http.routers.${name}.rule`]: `Host(\`${CHAT_HOST}\`)`,
    [`traefik.http.routers.${name}.entrypoints`]: 'web',
    [`traefik.http.services.${name}.loadbalancer.server.port`]: '8080',
    'traefik.swarm.network': swarm.network,
  }));
}

/** A guest in Chromium (made-up host names resolve to this host): logs in and lands in their peer. */
async function guest(): Promise<{ context: BrowserContext; peerId: string; landedAt: string; visited: string[] }> {
  const context = await (browser as Browser).newContext();
  const page = await context.newPage();
  const visited: string[] = [];
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) visited.push(frame.url());
  });
  await page.goto(`http://${CHAT_HOST}:${port}/`);
  await page.getByTestId('guest').click();
  const peerId = await landOnPeerPage(page, 90_000);
  return { context, peerId, landedAt: page.url(), visited };
}

beforeAll(async () => {
  swarm = await testSwarm();
  port = await freePort();
  traefik = await startTraefikStandIn(swarm.docker, swarm, port);
  await deployBehindTraefik();
  const until = Date.now() + 120_000;
  while ((await viaTraefik(CHAT_HOST, '/readyz').catch(() => ({ status: 0 }))).status !== 200) {
    if (Date.now() > until)
      throw new Error(
        `the dispatcher did not get ready behind Traefik; Traefik's log: ${JSON.stringify(await traefik.logs())}`,
      );
    await sleep(500);
  }
  browser = await launchChromium({ args: [`--host-resolver-rules=MAP *.${DOMAIN} 127.0.0.1`] });
}, SWARM_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await swarm?.cleanup();
}, SWARM_TIMEOUT_MS);

printDispatcherLogOnFailure(() => swarm);

describe('--router traefik: the dispatcher as a Swarm service, each peer on a host of its own behind Traefik', () => {
  it(
    'sends each guest to their own peer’s host, where another guest’s cookie gets nothing',
    async () => {
      const [ada, bob] = await Promise.all([guest(), guest()]);
      expect(bob.peerId).not.toBe(ada.peerId);
      expect(ada.landedAt).toBe(`http://${ada.peerId}.${PEERS_DOMAIN}:${port}/p/${ada.peerId}/`);
      expect(bob.landedAt).toBe(`http://${bob.peerId}.${PEERS_DOMAIN}:${port}/p/${bob.peerId}/`);
      // One had the spare peer at once; the other went by the progress page (its /go, then the peer's host).
      const starting = `http://${CHAT_HOST}:${port}/starting`;
      expect([ada, bob].filter((user) => user.visited.includes(starting))).toHaveLength(1);
      // The peer's cookie is its host's alone (and its path's): none is set for the dispatcher or another peer.
      const adaCookies = await ada.context.cookies();
      const adaPeerCookie = adaCookies.find((c) => c.name === 'p2pm_owner');
      expect(adaPeerCookie).toMatchObject({ domain: `${ada.peerId}.${PEERS_DOMAIN}`, path: `/p/${ada.peerId}/` });
      const bobCookie = (await bob.context.cookies()).find((c) => c.name === 'p2pm_owner');
      expect(bobCookie?.domain).toBe(`${bob.peerId}.${PEERS_DOMAIN}`);
      // Bob's own cookie opens his peer, and nothing at Ada's host (sent as if the browser did).
      const withBobs = { cookie: `p2pm_owner=${bobCookie?.value}` };
      expect((await viaTraefik(`${bob.peerId}.${PEERS_DOMAIN}`, `/p/${bob.peerId}/api/self`, withBobs)).status).toBe(
        200,
      );
      for (const path of [`/p/${ada.peerId}/api/self`, `/p/${ada.peerId}/`, '/api/self', `/p/${bob.peerId}/api/self`]) {
        const answer = await viaTraefik(`${ada.peerId}.${PEERS_DOMAIN}`, path, withBobs);
        expect({ path, status: answer.status }).toEqual({
          path,
          status: path.startsWith(`/p/${bob.peerId}`) ? 404 : 401,
        });
      }
      // In Bob's browser, Ada's peer page is closed to him.
      const page = await bob.context.newPage();
      const response = await page.goto(`http://${ada.peerId}.${PEERS_DOMAIN}:${port}/p/${ada.peerId}/`);
      expect(response?.status()).toBe(401);
      // Ada's page talks to its own peer (its API calls answer on its origin).
      const adaPage = ada.context.pages()[0];
      await expect.poll(() => adaPage?.getByTestId('my-peer-id').textContent()).toBe(ada.peerId);
      // Logging out of her peer leads Ada back to the dispatcher's page, and her old cookie opens nothing more.
      await adaPage?.getByTestId('peer-logout').click();
      await expect.poll(() => adaPage && new URL(adaPage.url()).host).toBe(`${CHAT_HOST}:${port}`);
      const withAdas = { cookie: `p2pm_owner=${adaPeerCookie?.value}` };
      expect((await viaTraefik(`${ada.peerId}.${PEERS_DOMAIN}`, `/p/${ada.peerId}/api/self`, withAdas)).status).toBe(
        401,
      );
    },
    SWARM_TIMEOUT_MS,
  );

  it(
    'leaves nothing of the test behind once torn down',
    async () => {
      await browser?.close();
      browser = undefined;
      await swarm.cleanup();
      expect(await leftovers(swarm)).toEqual(NOTHING_LEFT);
    },
    SWARM_TIMEOUT_MS,
  );
});
