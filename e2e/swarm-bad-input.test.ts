import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../packages/dispatcher/test/helpers/free-port.js';
import { type TestSwarm, testSwarm } from '../packages/dispatcher/test/helpers/swarm.js';
import { WebClient } from '../packages/dispatcher/test/helpers/web-client.js';
import { launchChromium } from './helpers/browser.js';
import {
  DISPATCHER_MAIN,
  type StartedDispatcher,
  startDispatcher,
  withoutP2pmVariables,
} from './helpers/dispatcher.js';
import { EngineForwarder } from './helpers/engine-forwarder.js';
import { openOwnPeer, TICKET_PATH } from './helpers/guest.js';
import {
  deployDispatcher,
  leftovers,
  NOTHING_LEFT,
  peerServiceIds,
  printDispatcherLogOnFailure,
  settledPeerServices,
  waitReady,
} from './helpers/swarm-dispatcher.js';

/** A dispatcher service and peer services starting on a shared 2-core machine. */
const SWARM_TIMEOUT_MS = 180_000;
const MISSING_IMAGE = 'p2p-messenger/no-such-peer:none';
/** What a user is told when no peer can be started (the dispatcher's page and progress page). */
const UNAVAILABLE_TEXT = 'Peers cannot be started right now';

/** The flags of a dispatcher process on this host whose peers are the test's Swarm services. */
function swarmFlags(swarm: TestSwarm): string[] {
  return ['--orchestrator', 'swarm', '--swarm-network', swarm.network, '--pool-name', swarm.pool];
}

/** /readyz's status and answer. */
async function readiness(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: await response.json() };
}

/** /go's status, Retry-After and page, for a logged-in user. */
async function go(
  web: WebClient,
): Promise<{ status: number; retryAfter: string | null; location: string; text: string }> {
  const response = await web.get('/go', { accept: 'text/html' });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    location: response.headers.get('location') ?? '',
    text: await response.text(),
  };
}

/** A logged-in user's /go until it answers 503 with Retry-After and the page that says no peer can start now. */
async function untilToldUnavailable(web: WebClient, timeoutMs: number): Promise<void> {
  await expect
    .poll(
      async () => {
        const answer = await go(web);
        const told = answer.text.includes(UNAVAILABLE_TEXT);
        return { status: answer.status, retryAfter: Number(answer.retryAfter) > 0, told };
      },
      { timeout: timeoutMs, interval: 500 },
    )
    .toEqual({ status: 503, retryAfter: true, told: true });
}

/** A guest logged in through the form (without following where it leads); the answer to the post. */
async function guestLogIn(web: WebClient): Promise<Response> {
  return web.post('/guest', { _csrf: await web.csrf() });
}

/** A logged-in user's /go until it hands a ticket (a new peer may take a while); opens it, returns the peer id. */
async function intoPeer(web: WebClient): Promise<string> {
  await expect.poll(async () => (await go(web)).location, { timeout: 90_000, interval: 1_000 }).toMatch(TICKET_PATH);
  const location = (await go(web)).location;
  const { response } = await web.follow(await web.get(location));
  expect(response.status).toBe(200);
  return TICKET_PATH.exec(location)?.[1] as string;
}

/** Runs the dispatcher command until it exits (it should, at once). */
function runUntilExit(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [DISPATCHER_MAIN, ...args],
      { env: { ...withoutP2pmVariables(process.env), ...env }, timeout: 30_000 },
      (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr }),
    );
  });
}

describe('a dispatcher whose --peer-image is not on the engine', () => {
  let swarm: TestSwarm;
  let dispatcher: StartedDispatcher | undefined;
  let browser: Browser | undefined;
  let startedAt = 0;

  beforeAll(async () => {
    swarm = await testSwarm();
    startedAt = Date.now();
    dispatcher = await startDispatcher({ pool: 1, args: [...swarmFlags(swarm), '--peer-image', MISSING_IMAGE] });
  }, SWARM_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    const exit = await dispatcher?.stop();
    await swarm?.cleanup();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await leftovers(swarm)).toEqual(NOTHING_LEFT);
  }, SWARM_TIMEOUT_MS);

  it(
    'tells the operator why (log, /readyz), tells users plainly that peers cannot start now, and creates nothing',
    async () => {
      if (!dispatcher) throw new Error('no dispatcher: beforeAll failed');
      const { url, dataDir } = dispatcher;
      await expect
        .poll(() => readiness(url), { timeout: 30_000 })
        .toMatchObject({
          status: 503,
          body: {
            status: 'failing',
            error: expect.stringContaining(`the peer image ${MISSING_IMAGE} is not on this engine: build it`),
          },
        });

      // A person: the guest button leads to a page that says so (at once, or from the progress page).
      browser = await launchChromium();
      const page = await (await browser.newContext()).newPage();
      await page.goto(`${url}/`);
      await page.getByTestId('guest').click();
      const told = page.locator('[data-testid="problem"], [data-testid="progress-text"][data-state="unavailable"]');
      await told.waitFor({ timeout: 30_000 });
      expect(await told.textContent()).toContain(UNAVAILABLE_TEXT);
      expect(await page.getByTestId('progress').count()).toBe(0);

      // A script: 503 with Retry-After, not a redirect to a progress that never ends.
      const web = new WebClient(url);
      expect([303, 503]).toContain((await guestLogIn(web)).status);
      await untilToldUnavailable(web, 30_000);

      // The log says why, once as an error; starts are spaced out, not retried in a loop.
      const lines = (await readFile(join(dataDir, 'dispatcher.log'), 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { level: number; msg: string; err?: { type?: string } });
      const failed = (msg: string) =>
        lines.filter((line) => line.err?.type === 'ImageMissingError' && line.msg === msg);
      expect(failed('peers cannot be started').map((line) => line.level)).toEqual([50]);
      // Pauses that grow between starts (and a start for a user who came in between), not thousands a second.
      expect(failed('could not start a pool peer').length).toBeLessThanOrEqual((Date.now() - startedAt) / 1_000 + 3);

      expect((await leftovers(swarm)).services).toEqual([]);
      expect((await leftovers(swarm)).volumes).toEqual([]);
    },
    SWARM_TIMEOUT_MS,
  );
});

describe('a dispatcher started while Docker is down', () => {
  it(
    'exits at once with a message naming the engine’s socket and how to start Docker, and creates nothing',
    async () => {
      const swarm = await testSwarm();
      const forwarder = await EngineForwarder.start();
      const dataDir = await mkdtemp(join(tmpdir(), 'p2pm-e2e-'));
      try {
        // The engine the dispatcher is pointed at stops (the shared dockerd goes on).
        await forwarder.close();
        const { code, stderr } = await runUntilExit(
          [...swarmFlags(swarm), '--data-dir', dataDir, '--port', '0', '--log-file', join(dataDir, 'dispatcher.log')],
          { DOCKER_HOST: forwarder.dockerHost },
        );
        expect(code).toBe(1);
        expect(stderr).toContain(`the Docker engine at ${forwarder.dockerHost} does not answer`);
        expect(stderr).toContain('start Docker (systemctl start docker, or dockerd)');
      } finally {
        await forwarder.remove();
        await rm(dataDir, { recursive: true, force: true });
        await swarm.cleanup();
      }
      expect(await leftovers(swarm)).toEqual(NOTHING_LEFT);
    },
    SWARM_TIMEOUT_MS,
  );
});

describe('a dispatcher service with no vacant peers and room for one waiting user, whose engine goes away and back', () => {
  let swarm: TestSwarm;
  let forwarder: EngineForwarder;
  let url = '';
  /** The user who got a peer in the first test, and that peer. */
  let first: { web: WebClient; peerId: string } | undefined;

  beforeAll(async () => {
    swarm = await testSwarm();
    forwarder = await EngineForwarder.start();
    ({ url } = await deployDispatcher(swarm, {
      port: await freePort(),
      engineDir: forwarder.dir,
      settings: { P2PM_POOL_TARGET: '0', P2PM_MAX_WAITING: '1', P2PM_MAX_STARTS: '1' },
    }));
    await waitReady(url);
  }, SWARM_TIMEOUT_MS);

  printDispatcherLogOnFailure(() => swarm);

  afterAll(async () => {
    await swarm?.cleanup();
    await forwarder?.remove();
    expect(await leftovers(swarm)).toEqual(NOTHING_LEFT);
  }, SWARM_TIMEOUT_MS);

  it(
    'answers 429 with Retry-After to guests beyond --max-waiting; the one waiting gets a peer, and no other peer starts',
    async () => {
      const guests = Array.from({ length: 4 }, () => new WebClient(url));
      const tokens = await Promise.all(guests.map((guest) => guest.csrf()));
      const answers = await Promise.all(guests.map((guest, i) => guest.post('/guest', { _csrf: tokens[i] as string })));
      const waiting = guests.filter((_, i) => answers[i]?.status === 303);
      const refused = answers.filter((answer) => answer.status === 429);
      expect(waiting).toHaveLength(1);
      expect(refused).toHaveLength(3);
      for (const answer of refused) expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);

      const web = waiting[0] as WebClient;
      first = { web, peerId: await intoPeer(web) };
      expect(await settledPeerServices(swarm)).toHaveLength(1);
    },
    SWARM_TIMEOUT_MS,
  );

  it(
    'while its engine is gone, a new guest is told at once (503, Retry-After), /readyz says why, and a user in their peer stays in it; once it is back, peers start again',
    async () => {
      if (!first) throw new Error('the test before did not get a user into a peer');
      const before = await peerServiceIds(swarm);
      await forwarder.close();

      const guest = new WebClient(url);
      expect([303, 503]).toContain((await guestLogIn(guest)).status);
      await untilToldUnavailable(guest, 60_000);
      expect(await readiness(url)).toMatchObject({
        status: 503,
        body: { status: 'failing', error: expect.stringMatching(/the Docker engine at unix:\/\/\S+ does not answer/) },
      });
      // Peers run on without the engine; the dispatcher still leads their owners in.
      expect(await openOwnPeer(first)).toBe(200);

      await forwarder.open();
      const peerId = await intoPeer(guest);
      expect(peerId).not.toBe(first.peerId);
      await expect.poll(() => readiness(url), { timeout: 30_000 }).toMatchObject({ status: 200 });
      const after = await settledPeerServices(swarm);
      expect(after).toHaveLength(2);
      expect(after).toEqual(expect.arrayContaining(before));
    },
    SWARM_TIMEOUT_MS,
  );
});
