import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './helpers/browser.js';
import { messageTexts, openConversation, peerItem, sendMessage } from './helpers/chat-page.js';
import { type StartedDispatcher, startDispatcher } from './helpers/dispatcher.js';
import { dispatcherBridgeOf } from './helpers/dispatcher-bridge.js';
import { HomeLan } from './helpers/home-lan.js';
import { signUp } from './helpers/users.js';

/** Two bridges to link, a peer to start and hand out, discovery on both sides, two rounds of receipts. */
const TEST_TIMEOUT_MS = 180_000;
/** Discovery through the bridges: the home LAN's announcements, the link's exchange, the catalog's rounds. */
const BRIDGED_TIMEOUT_MS = 45_000;

let home: HomeLan | undefined;
let browser: Browser | undefined;
let dispatcher: StartedDispatcher | undefined;
let context: BrowserContext | undefined;

/** Text no other run sends. */
function unique(text: string): string {
  return `${text} ${randomBytes(4).toString('hex')}`;
}

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

beforeAll(async () => {
  // The LANs first: the dispatcher runs on one, and trusts the home bridge, whose id the lab made.
  home = await HomeLan.create();
  const address = home.dispatcherHost.ipv4;
  const args = ['--host', address, '--bridge-listen', `${address}:0`, '--bridge-trust', home.bridgeId];
  // Each is kept even when the other fails, so that afterAll ends what did start.
  const [launched, started] = await Promise.allSettled([
    // Every URL here is an address: no name to look up, so none is asked of this machine's DNS
    // (Chromium looks some up by itself, flags or not).
    launchChromium({ args: [`--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE ${address}`] }),
    startDispatcher({ pool: 1, args, netns: home.dispatcherHost.netns }),
  ]);
  if (launched.status === 'fulfilled') browser = launched.value;
  if (started.status === 'fulfilled') dispatcher = started.value;
  for (const result of [launched, started]) if (result.status === 'rejected') throw result.reason;
}, 180_000); // The LAN may wait for another lab that gave this machine the same address (NetLab.joinRoot).

afterAll(async () => {
  try {
    await context?.close();
    await browser?.close();
    const exit = await dispatcher?.stop();
    if (exit) expect(exit, 'the dispatcher stops cleanly on SIGTERM').toEqual({ code: 0, signal: null });
  } finally {
    await home?.destroy();
  }
});

describe('a browser user of the embedded dispatcher and a `peer` user on a home LAN, through bridges', () => {
  it(
    'find each other through the two bridges, chat both ways, and see each other read',
    async ({ onTestFailed }) => {
      if (!home || !browser || !dispatcher) throw new Error('beforeAll failed');
      const lan = home;
      const started = dispatcher;
      onTestFailed(async () => {
        process.stderr.write(`${await started.logTail()}\n${lan.logTail()}`);
      });

      // The operator reads the dispatcher's bridge from its ready output, and joins it from home.
      const cloud = await dispatcherBridgeOf(started);
      expect(cloud.host).toBe(lan.dispatcherHost.ipv4);
      const bridge = await lan.startBridge(cloud);
      expect(bridge.id).toBe(lan.bridgeId);
      const homer = await lan.startPeer('homer');
      const cli = homer.process;
      // The home peer has no way to the dispatcher but the bridges.
      expect(await lan.reaches(lan.bridgeHost, cloud.host, cloud.port)).toBe(true);
      expect(await lan.reaches(lan.peerHost, cloud.host, cloud.port)).toBe(false);
      expect(new URL(started.url).hostname).toBe(cloud.host);

      // A user signs up in the browser and lands on their peer's page, which lists the home peer
      // (through the dispatcher's bridge: no other way leads there).
      context = await browser.newContext();
      const user = await signUp(context, started.url);
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
      await cli.waitFor(
        new RegExp(
          `^ +\\d+ {2}${escaped(userName)} +${userPrefix} {2}online via bridge ${lan.bridgeId.slice(0, 8)} {2}via multicast {2}1 unread$`,
          'm',
        ),
        { since },
      );

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

      // Both leave cleanly: the person at home quits, the home bridge stops on SIGTERM.
      cli.type('/quit');
      expect(await cli.exited).toEqual({ code: 0, signal: null });
      bridge.process.child.kill('SIGTERM');
      expect(await bridge.process.exited).toEqual({ code: 0, signal: null });
    },
    TEST_TIMEOUT_MS,
  );
});
