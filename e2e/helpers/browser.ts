import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (see ENVIRONMENT.md, "Browsers"): Playwright cannot download its own here. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Nothing that reaches out to the network by itself, no sandbox (tests run as root), no GPU. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Headless Chromium with a fresh temporary profile; give each user a context of their own.
 * `args`: more flags (e.g. --host-resolver-rules for made-up host names).
 */
export function launchChromium(init: { executablePath?: string; args?: readonly string[] } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: init.executablePath ?? CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(init.args ?? [])],
  });
}

/** Holds back requests to `url` (a glob) until the function it resolves with is called; then they go on. */
export async function holdRequests(target: Page | BrowserContext, url: string): Promise<() => void> {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  await target.route(url, async (route) => {
    await released;
    await route.continue();
  });
  return release;
}
