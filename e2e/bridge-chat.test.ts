import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BridgeProcess } from '../packages/bridge/dist/harness/index.js';
import { launchChromium } from './helpers/browser.js';
import { messageTexts, openConversation, peerItem, sendMessage } from './helpers/chat-page.js';
import { type StartedDispatcher, startDispatcher } from './helpers/dispatcher.js';
import { type DispatcherBridge, dispatcherBridgeOf } from './helpers/dispatcher-bridge.js';
import { exitWithin, HomeLan, type HomePeer } from './helpers/home-lan.js';
import { landOnPeerPage, signUp } from './helpers/users.js';

/** A peer to start and hand out, discovery on both sides through the bridges, two rounds of receipts. */
const TEST_TIMEOUT_MS = 120_000;
/** Discovery through the bridges: the home LAN's announcements, the link's exchange, the catalog's rounds. */
const BRIDGED_TIMEOUT_MS = 45_000;

/** What beforeAll started: the lab, the dispatcher on it, the browser, the home bridge and the person at home. */
interface Setup {
  home: HomeLan;
  dispatcher: StartedDispatcher;
  browser: Browser;
  /** The dispatcher's bridge, as its ready output names it. */
  cloud: DispatcherBridge;
  bridge: BridgeProcess;
  homer: HomePeer;
}

let home: HomeLan | undefined;
let browser: Browser | undefined;
let dispatcher: StartedDispatcher | undefined;
let setup: Setup | undefined;
const contexts: BrowserContext[] = [];

/** The home bridge's count of sessions the home LAN's peers opened through its relay port. */
const RELAYED_FROM_HOME = 'p2pm_bridge_relayed_connections_total';

/** Text no other run sends. */
function unique(text: string): string {
  return `${text} ${randomBytes(4).toString('hex')}`;
}

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function started(): Setup {
  if (!setup) throw new Error('beforeAll failed');
  return setup;
}

async function newPage(): Promise<Page> {
  const context = await started().browser.newContext();
  contexts.push(context);
  return context.newPage();
}

beforeAll(async () => {
  // The LANs first: the dispatcher runs on one, and trusts the home bridge, whose id the lab made.
  home = await HomeLan.create();
  const address = home.dispatcherHost.ipv4;
  const args = ['--host', address, '--bridge-listen', `${address}:0`, '--bridge-trust', home.bridgeId];
  // Each is kept even when the other fails, so that afterAll ends what did start.
  const [launched, ready] = await Promise.allSettled([
    // Every URL here is an address: no name to look up, so none is asked of this machine's DNS
    // (Chromium looks some up by itself, flags or not).
    launchChromium({ args: [`--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE ${address}`] }),
    startDispatcher({ pool: 1, args, netns: home.dispatcherHost.netns }),
  ]);
  if (launched.status === 'fulfilled') browser = launched.value;
  if (ready.status === 'fulfilled') dispatcher = ready.value;
  for (const result of [launched, ready]) if (result.status === 'rejected') throw result.reason;
  if (!browser || !dispatcher) throw new Error('unreachable: both started');

  // The operator reads the dispatcher's bridge from its ready output, and joins it from home.
  const cloud = await dispatcherBridgeOf(dispatcher);
  const bridge = await home.startBridge(cloud);
  const homer = await home.startPeer('homer');
  setup = { home, dispatcher, browser, cloud, bridge, homer };
}, 180_000); // The LAN may wait for another lab that gave this machine the same address (NetLab.joinRoot).

afterAll(async () => {
  // Every step runs, whatever failed before it, so that nothing is left; the first failure is reported.
  const problems: unknown[] = [];
  const step = async (run: () => Promise<unknown>) => {
    await run().catch((err: unknown) => problems.push(err));
  };
  if (setup) {
    // The person at home quits, and the home bridge stops on SIGTERM: both cleanly.
    const { homer, bridge } = setup;
    await step(async () => {
      homer.process.type('/quit');
      expect(await exitWithin(homer.process), 'the peer command after /quit').toEqual({ code: 0, signal: null });
    });
    await step(async () => {
      expect(await bridge.stop(), 'the home bridge after SIGTERM').toEqual({ code: 0, signal: null });
    });
  }
  await step(() => Promise.all(contexts.splice(0).map((context) => context.close())));
  await step(async () => browser?.close());
  await step(async () => {
    const exit = await dispatcher?.stop();
    if (exit) expect(exit, 'the dispatcher stops cleanly on SIGTERM').toEqual({ code: 0, signal: null });
  });
  await step(async () => home?.destroy());
  if (problems.length > 0) throw problems[0];
}, 120_000);

beforeEach(({ onTestFailed }) => {
  onTestFailed(async () => {
    if (dispatcher) process.stderr.write(`${await dispatcher.logTail()}\n`);
    if (home) process.stderr.write(home.logTail());
  });
});

describe('a browser user of the embedded dispatcher and a `peer` user on a home LAN, through bridges', () => {
  it('the home bridge joins the bridge the dispatcher names, the only way from the home peer to the dispatcher', async () => {
    const { home, dispatcher, cloud, bridge } = started();
    expect(cloud.host).toBe(home.dispatcherHost.ipv4);
    expect(new URL(dispatcher.url).hostname).toBe(cloud.host);
    expect(bridge.id).toBe(home.bridgeId);
    expect(await home.reaches(home.bridgeHost, cloud.host, cloud.port)).toBe(true);
    expect(await home.reaches(home.peerHost, cloud.host, cloud.port)).toBe(false);
    // Nor its web port: the person at home has the CLI, and no way to the dispatcher's pages.
    expect(await home.reaches(home.peerHost, cloud.host, Number(new URL(dispatcher.url).port))).toBe(false);
  });

  it(
    'a user who signs up writes first: the CLI prints it, the page shows it delivered, then read; the reply comes back and is read',
    async () => {
      const { home, cloud, homer } = started();
      const cli = homer.process;
      // The user lands on their peer's page, which lists the home peer.
      const user = await signUp((await newPage()).context(), started().dispatcher.url);
      const status = peerItem(user.page, homer.id).locator('.status');
      await expect.poll(() => status.textContent(), { timeout: BRIDGED_TIMEOUT_MS }).toMatch(/^online/);
      // The person at home sees the user's peer come online.
      const userPrefix = user.peerId.slice(0, 8);
      await cli.waitFor(new RegExp(`^\\* .+ \\(${userPrefix}\\) is online$`, 'm'), { timeoutMs: BRIDGED_TIMEOUT_MS });

      // Browser to CLI: delivered at once, read once the person at home reads it.
      await openConversation(user.page, homer.id);
      const hello = unique('hello from the browser');
      const sent = await sendMessage(user.page, hello);
      const [, userName = ''] = await cli.waitFor(new RegExp(`^\\[([^\\]\\n]+)\\] ${escaped(hello)}$`, 'm'), {
        timeoutMs: BRIDGED_TIMEOUT_MS,
      });
      await expect.poll(() => sent.getAttribute('data-state'), { timeout: BRIDGED_TIMEOUT_MS }).toBe('delivered');
      // Now that they talk, each side shows the path: through a bridge, its own side's.
      await expect.poll(() => status.textContent()).toBe('online via bridge');
      expect(await status.getAttribute('title')).toBe(`through bridge ${cloud.id}`);
      let since = cli.mark();
      cli.type('/peers');
      await cli.waitFor(peerLine(userName, userPrefix, home.bridgeId, '  1 unread'), { since });

      since = cli.mark();
      cli.type(`/to ${userPrefix}`);
      await cli.waitFor(new RegExp(`^talking to ${escaped(userName)} \\(${userPrefix}\\)`, 'm'), { since });
      cli.type('/history');
      await cli.waitFor(new RegExp(`${escaped(userName)}: ${escaped(hello)} {2}\\(new\\)$`, 'm'), { since });
      await expect.poll(() => sent.getAttribute('data-state'), { timeout: BRIDGED_TIMEOUT_MS }).toBe('read');

      // CLI to browser: the page has the conversation open, so it shows the reply and reads it.
      since = cli.mark();
      const reply = unique('and back from home');
      cli.type(reply);
      await expect.poll(() => messageTexts(user.page), { timeout: BRIDGED_TIMEOUT_MS }).toEqual([hello, reply]);
      await cli.waitFor(new RegExp(`✓✓ delivered to ${escaped(userName)}: "${escaped(reply)}"`), { since });
      await cli.waitFor(new RegExp(`✓✓ read by ${escaped(userName)}: "${escaped(reply)}"`), {
        since,
        timeoutMs: BRIDGED_TIMEOUT_MS,
      });
      cli.type('/history');
      await cli.waitFor(new RegExp(`you: ${escaped(reply)} {2}\\[✓✓ read\\]$`, 'm'), { since });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'the person at home writes first to a guest (through the home bridge this time): unread on the page, read when opened; the answer is read with /read',
    async () => {
      const { home, cloud, homer, bridge } = started();
      const cli = homer.process;
      const page = await newPage();
      await page.goto(`${started().dispatcher.url}/`);
      await page.getByTestId('guest').click();
      const guestId = await landOnPeerPage(page);
      const guestPrefix = guestId.slice(0, 8);
      await cli.waitFor(new RegExp(`^\\* .+ \\(${guestPrefix}\\) is online$`, 'm'), { timeoutMs: BRIDGED_TIMEOUT_MS });

      const relayedBefore = (await bridge.metrics()).get(RELAYED_FROM_HOME);
      expect(relayedBefore).toBeDefined();
      let since = cli.mark();
      const hello = unique('hello guest, from home');
      cli.type(`/msg ${guestPrefix} ${hello}`);
      const [, guestName = ''] = await cli.waitFor(new RegExp(`✓✓ delivered to (\\S+): "${escaped(hello)}"`), {
        since,
        timeoutMs: BRIDGED_TIMEOUT_MS,
      });
      const item = peerItem(page, homer.id);
      await expect.poll(() => item.locator('.unread').textContent(), { timeout: BRIDGED_TIMEOUT_MS }).toBe('1');
      await openConversation(page, homer.id);
      expect(await messageTexts(page)).toEqual([hello]);
      await cli.waitFor(new RegExp(`✓✓ read by ${escaped(guestName)}: "${escaped(hello)}"`), {
        since,
        timeoutMs: BRIDGED_TIMEOUT_MS,
      });

      const answer = unique('hello home, from a guest');
      const sent = await sendMessage(page, answer);
      await cli.waitFor(new RegExp(`^\\[${escaped(guestName)}\\] ${escaped(answer)}$`, 'm'), {
        since,
        timeoutMs: BRIDGED_TIMEOUT_MS,
      });
      await expect.poll(() => sent.getAttribute('data-state'), { timeout: BRIDGED_TIMEOUT_MS }).toBe('delivered');
      since = cli.mark();
      cli.type(`/read ${guestPrefix}`);
      await cli.waitFor(/^marked 1 message read$/m, { since });
      await expect.poll(() => sent.getAttribute('data-state'), { timeout: BRIDGED_TIMEOUT_MS }).toBe('read');

      // The session went out from home, through the home bridge's relay port: the page shows the
      // dispatcher's bridge, the CLI its own.
      expect((await bridge.metrics()).get(RELAYED_FROM_HOME)).toBeGreaterThan(relayedBefore ?? 0);
      const status = item.locator('.status');
      expect(await status.textContent()).toBe('online via bridge');
      expect(await status.getAttribute('title')).toBe(`through bridge ${cloud.id}`);
      since = cli.mark();
      cli.type('/peers');
      await cli.waitFor(peerLine(guestName, guestPrefix, home.bridgeId, ''), { since });
    },
    TEST_TIMEOUT_MS,
  );
});

/** A line of the CLI's /peers for a peer it reaches through the home bridge (listed by the bridge's multicast). */
function peerLine(name: string, prefix: string, bridgeId: string, unread: string): RegExp {
  const via = `online via bridge ${bridgeId.slice(0, 8)} {2}via multicast`;
  return new RegExp(`^ +\\d+ {2}${escaped(name)} +${prefix} {2}${via}${escaped(unread)}$`, 'm');
}
