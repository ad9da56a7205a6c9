import { type Browser, chromium } from 'playwright-core';

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

/** Headless Chromium with a fresh temporary profile; give each user a context of their own. */
export function launchChromium(init: { executablePath?: string } = {}): Promise<Browser> {
  return chromium.launch({ executablePath: init.executablePath ?? CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}
