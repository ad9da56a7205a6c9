import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../packages/dispatcher/test/helpers/free-port.js';
import { type TestSwarm, testSwarm } from '../packages/dispatcher/test/helpers/swarm.js';
import { launchChromium } from './helpers/browser.js';
import { messageTexts, openConversation, peerItem, sendMessage } from './helpers/chat-page.js';
import { type GuestInPeer, guestInPeer, openOwnPeer } from './helpers/guest.js';
import {
  deployDispatcher,
  leftovers,
  NOTHING_LEFT,
  peerContainerOf,
  peerServiceIds,
  peerServiceOf,
  printDispatcherLogOnFailure,
  settledPeerServices,
  waitReady,
} from './helpers/swarm-dispatcher.js';
import { landOnPeerPage, newCredentials, submitLoginForm, type User } from './helpers/users.js';

/** A dispatcher service and peer services starting on a shared 2-core machine. */
const SWARM_TIMEOUT_MS = 180_000;
/** Peers find each other through the dispatcher's catalog over the overlay network: a few of its rounds. */
const SWARM_DISCOVERY_MS = 60_000;

let swarm: TestSwarm;
let url = '';
let browser: Browser | undefined;

async function peersOf(user: GuestInPeer): Promise<string[]> {
  return ((await (await user.web.get(`/p/${user.peerId}/api/peers`)).json()) as { id: string }[]).map((p) => p.id);
}

function send(from: GuestInPeer, to: string, text: string): Promise<Response> {
  return fetch(`${url}/p/${from.peerId}/api/send`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: from.web.cookieHeader(`/p/${from.peerId}/`) },
    body: JSON.stringify({ peerId: to, text }),
  });
}

async function history(user: GuestInPeer, other: string): Promise<string[]> {
  const response = await user.web.get(`/p/${user.peerId}/api/history/${other}`);
  if (response.status !== 200) return [];
  return ((await response.json()) as { text: string }[]).map((m) => m.text);
}

/** docker kill of the container that runs this peer: Swarm starts another task on the same volume. */
async function killPeerContainer(peerId: string): Promise<void> {
  const container = await peerContainerOf(swarm, peerId);
  if (!container) throw new Error(`no running container of peer ${peerId}`);
  await swarm.docker.getContainer(container.Id).kill();
}

/** The id of the dispatcher's running container, or null while there is none. */
async function dispatcherContainer(): Promise<string | null> {
  const [container] = await swarm.docker.listContainers({
    filters: { label: [`com.docker.swarm.service.name=p2pm-dispatcher-${swarm.pool}`], status: ['running'] },
  });
  return container?.Id ?? null;
}

/** A user signed up in a browser context of their own, on their peer's chat page (a new peer may take a while). */
async function signUpInChromium(): Promise<User> {
  if (!browser) throw new Error('no browser: beforeAll failed');
  const context = await browser.newContext();
  const page = await context.newPage();
  const credentials = newCredentials();
  await submitLoginForm(page, url, credentials, 'signup');
  const peerId = await landOnPeerPage(page, 90_000);
  return { ...credentials, context, page, peerId };
}

beforeAll(async () => {
  swarm = await testSwarm();
  ({ url } = await deployDispatcher(swarm, { port: await freePort() }));
  await waitReady(url);
}, SWARM_TIMEOUT_MS);

printDispatcherLogOnFailure(() => swarm);

afterAll(async () => {
  await browser?.close();
  await swarm?.cleanup();
}, SWARM_TIMEOUT_MS);

describe('the dispatcher as a Swarm service, each user’s peer a Swarm service', () => {
  it(
    'two guests each land in a peer service of their own and chat both ways through the dispatcher',
    async () => {
      const [ada, bob] = [await guestInPeer(url), await guestInPeer(url)];
      expect(ada.peerId).not.toBe(bob.peerId);
      expect((await peerServiceIds(swarm)).length).toBeGreaterThanOrEqual(2);
      // Their services say which peer each runs and whose it is, where an operator looks.
      const labelled = async () =>
        (
          await swarm.docker.listServices({
            filters: { label: [`org.p2p-messenger.pool=${swarm.pool}`, 'org.p2p-messenger.owner'] },
          })
        )
          .map((service) => service.Spec?.Labels?.['org.p2p-messenger.peer-id'])
          .sort();
      await expect.poll(labelled, { timeout: 30_000 }).toEqual([ada.peerId, bob.peerId].sort());
      // Each finds the other through the dispatcher's catalog, over the overlay network.
      await expect.poll(() => peersOf(ada), { timeout: 60_000 }).toContain(bob.peerId);
      expect((await send(ada, bob.peerId, 'hello from ada')).status).toBe(200);
      await expect.poll(() => history(bob, ada.peerId), { timeout: 60_000 }).toEqual(['hello from ada']);
      expect((await send(bob, ada.peerId, 'hello from bob')).status).toBe(200);
      await expect
        .poll(() => history(ada, bob.peerId), { timeout: 60_000 })
        .toEqual(['hello from ada', 'hello from bob']);
    },
    SWARM_TIMEOUT_MS,
  );

  it(
    'two users in Chromium each land in a peer service of their own, chat both ways, and see their messages delivered, then read',
    async () => {
      browser ??= await launchChromium();
      const [a, b] = await Promise.all([signUpInChromium(), signUpInChromium()]);
      try {
        expect(a.peerId).not.toBe(b.peerId);
        for (const user of [a, b]) expect(new URL(user.page.url()).pathname).toBe(`/p/${user.peerId}/`);
        // Two peer services, one each: the page each user is on is served by their own.
        const [aService, bService] = [await peerServiceOf(swarm, a.peerId), await peerServiceOf(swarm, b.peerId)];
        expect(aService).not.toBe(bService);
        expect(await peerServiceIds(swarm)).toEqual(expect.arrayContaining([aService, bService]));
        expect([401, 403]).toContain((await a.page.request.get(`${url}/p/${b.peerId}/api/self`)).status());

        await peerItem(a.page, b.peerId).waitFor({ timeout: SWARM_DISCOVERY_MS });
        await peerItem(b.page, a.peerId).waitFor({ timeout: SWARM_DISCOVERY_MS });
        await openConversation(a.page, b.peerId);
        const hello = `hello from ${a.username} over the overlay`;
        const sent = await sendMessage(a.page, hello);
        // Bob's peer has it; Bob has not opened the conversation: delivered, not read.
        await expect.poll(() => sent.getAttribute('data-state'), { timeout: SWARM_DISCOVERY_MS }).toBe('delivered');
        await openConversation(b.page, a.peerId);
        await expect.poll(() => messageTexts(b.page), { timeout: SWARM_DISCOVERY_MS }).toEqual([hello]);
        await expect.poll(() => sent.getAttribute('data-state'), { timeout: SWARM_DISCOVERY_MS }).toBe('read');

        const reply = `and back from ${b.username}`;
        const answer = await sendMessage(b.page, reply);
        await expect.poll(() => messageTexts(a.page), { timeout: SWARM_DISCOVERY_MS }).toEqual([hello, reply]);
        // Ada has the conversation open: Bob's reply goes straight to read.
        await expect.poll(() => answer.getAttribute('data-state'), { timeout: SWARM_DISCOVERY_MS }).toBe('read');
      } finally {
        await Promise.all([a.context.close(), b.context.close()]);
      }
    },
    SWARM_TIMEOUT_MS,
  );

  it(
    'brings a killed peer container back as the same peer with its history; messages sent meanwhile arrive once',
    async () => {
      const [ada, bob] = [await guestInPeer(url), await guestInPeer(url)];
      await expect.poll(() => peersOf(ada), { timeout: 60_000 }).toContain(bob.peerId);
      expect((await send(ada, bob.peerId, 'before the kill')).status).toBe(200);
      await expect.poll(() => history(bob, ada.peerId), { timeout: 60_000 }).toEqual(['before the kill']);
      await killPeerContainer(bob.peerId);
      // While Bob's peer is down (and as it comes back), Ada writes; it waits in her outbox.
      expect((await send(ada, bob.peerId, 'while you were down')).status).toBe(200);
      // Bob's peer is back with the same id: a new ticket (its sessions were in memory) opens it.
      await expect.poll(() => openOwnPeer(bob), { timeout: 90_000, interval: 1_000 }).toBe(200);
      await expect
        .poll(() => history(bob, ada.peerId), { timeout: 90_000 })
        .toEqual(['before the kill', 'while you were down']);
    },
    SWARM_TIMEOUT_MS,
  );

  it(
    'after a restart of the dispatcher service, users are still logged in, in the same peers, none started twice',
    async () => {
      const ada = await guestInPeer(url);
      // Once the pool has refilled after Ada's claim: the peer services, stable for a few seconds.
      const before = await settledPeerServices(swarm);
      const oldContainer = await dispatcherContainer();
      const dispatcher = swarm.docker.getService(`p2pm-dispatcher-${swarm.pool}`);
      const spec = (await dispatcher.inspect()) as {
        Version: { Index: number };
        Spec: Record<string, unknown> & { TaskTemplate: { ForceUpdate?: number } };
      };
      await dispatcher.update({
        version: spec.Version.Index,
        ...spec.Spec,
        TaskTemplate: { ...spec.Spec.TaskTemplate, ForceUpdate: (spec.Spec.TaskTemplate.ForceUpdate ?? 0) + 1 },
      });
      // A new task of the dispatcher, ready.
      const until = Date.now() + 90_000;
      while ([oldContainer, null].includes(await dispatcherContainer())) {
        if (Date.now() > until) throw new Error('the dispatcher service was not restarted');
        await sleep(500);
      }
      await waitReady(url);
      // The same session cookie leads to the same peer, which kept running.
      await expect.poll(() => openOwnPeer(ada), { timeout: 60_000, interval: 1_000 }).toBe(200);
      expect(await (await ada.web.get(`/p/${ada.peerId}/api/self`)).json()).toMatchObject({ id: ada.peerId });
      // The same services: adopted, none started again (a start cut short by the restart is removed).
      await expect.poll(() => peerServiceIds(swarm), { timeout: 30_000 }).toEqual(before);
    },
    SWARM_TIMEOUT_MS,
  );

  it(
    'leaves nothing of the test behind once removed',
    async () => {
      await swarm.cleanup();
      expect(await leftovers(swarm)).toEqual(NOTHING_LEFT);
    },
    SWARM_TIMEOUT_MS,
  );
});
