import { expect } from 'vitest';
import { WebClient } from '../../packages/dispatcher/test/helpers/web-client.js';

/** A ticket into a peer, as the dispatcher hands it out: `/p/<peerId>/login?ticket=…`. */
export const TICKET_PATH = /^\/p\/([a-z2-7]{32})\/login\?ticket=[\w.%-]+$/;

export interface GuestInPeer {
  web: WebClient;
  peerId: string;
}

/**
 * A guest logs in at the dispatcher and follows it into a peer of their own (waiting on the
 * progress page while one starts), whose page the dispatcher's proxy serves.
 */
export async function guestInPeer(url: string): Promise<GuestInPeer> {
  const web = new WebClient(url);
  const login = await web.post('/guest', { _csrf: await web.csrf() });
  expect(login.status).toBe(303);
  let location = login.headers.get('location') ?? '';
  if (location === '/starting') {
    await expect
      .poll(async () => (await web.get('/go')).headers.get('location') ?? '', { timeout: 90_000, interval: 500 })
      .toMatch(TICKET_PATH);
    location = (await web.get('/go')).headers.get('location') ?? '';
  }
  const peerId = TICKET_PATH.exec(location)?.[1] as string;
  const { response } = await web.follow(await web.get(location));
  expect(response.status).toBe(200);
  return { web, peerId };
}

/** /go, then the ticket it hands out: the status of the peer's page (0: no ticket to this peer yet). */
export async function openOwnPeer(user: GuestInPeer): Promise<number> {
  const response = await user.web.get('/go').catch(() => null);
  const location = response?.headers.get('location') ?? '';
  if (TICKET_PATH.exec(location)?.[1] !== user.peerId) return 0;
  return (await user.web.follow(await user.web.get(location))).response.status;
}
