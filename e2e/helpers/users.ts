import { randomBytes } from 'node:crypto';
import type { BrowserContext, Page, Response } from 'playwright-core';
import { expect } from 'vitest';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** A user in a browser context of their own, on their peer's chat page. */
export interface User extends Credentials {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Their peer's id: the `<id>` of `/p/<id>/`, which the page shows as `my-peer-id`. */
  readonly peerId: string;
}

const PEER_PAGE = /\/p\/([^/?#]+)\/$/;
/** Peer start and hand-over: a few seconds even when the user waits for a new peer. */
const LANDING_TIMEOUT_MS = 30_000;

/** A fresh user name (the dispatcher allows `[a-z0-9][a-z0-9_.-]{2,31}`) and a 24-character password. */
export function newCredentials(): Credentials {
  return { username: `u${randomBytes(6).toString('hex')}`, password: randomBytes(18).toString('base64') };
}

/** Opens the dispatcher's log-in form and submits it with `button`; resolves with the response to the post. */
export async function submitLoginForm(
  page: Page,
  base: string,
  credentials: Credentials,
  button: 'signup' | 'login',
): Promise<Response> {
  await page.goto(`${base}/`);
  await page.getByTestId('username').fill(credentials.username);
  await page.getByTestId('password').fill(credentials.password);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().isNavigationRequest() && r.request().method() === 'POST'),
    page.getByTestId(button).click(),
  ]);
  return response;
}

/** Signs up on a new page of `context` (one context per user) and waits for the peer's chat page. */
export async function signUp(context: BrowserContext, base: string, credentials = newCredentials()): Promise<User> {
  const page = await context.newPage();
  await submitLoginForm(page, base, credentials, 'signup');
  const peerId = await landOnPeerPage(page);
  return { ...credentials, context, page, peerId };
}

/**
 * Waits until the page is a peer's chat page (`/p/<id>/`, straight or by way of the progress
 * page) that has loaded and shows its own id; returns the id.
 */
export async function landOnPeerPage(page: Page, timeoutMs = LANDING_TIMEOUT_MS): Promise<string> {
  await page.waitForURL(PEER_PAGE, { timeout: timeoutMs });
  const peerId = PEER_PAGE.exec(new URL(page.url()).pathname)?.[1];
  if (!peerId) throw new Error(`not a peer page: ${page.url()}`);
  await expect
    .poll(() => page.getByTestId('my-peer-id').textContent(), { timeout: timeoutMs, message: 'my-peer-id' })
    .toBe(peerId);
  return peerId;
}
