import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueTicket, Peer } from '@p2p-messenger/peer';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedRouter } from '../src/index.js';

const dispatcher = generateKeyPairSync('ed25519');

describe('EmbeddedRouter', () => {
  let dir: string;
  let app: FastifyInstance;
  let router: EmbeddedRouter;
  let peer: Peer;
  let base: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'router-'));
    peer = new Peer({
      name: 'ada',
      dataDir: join(dir, 'ada'),
      listenHost: '127.0.0.1',
      web: { port: 0, dispatcherKeyPem: dispatcher.publicKey.export({ type: 'spki', format: 'pem' }).toString() },
      logger: pino({ level: 'silent' }),
    });
    await peer.start();
    app = Fastify({ forceCloseConnections: true });
    router = new EmbeddedRouter(app);
    app.get('/', async () => ({ dispatcher: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterEach(async () => {
    await app.close();
    await peer.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('carries the owner in with a ticket, then the page, the API and live events', async () => {
    await router.route(peer.id, { host: '127.0.0.1', port: peer.webPort as number });
    const path = router.entryFor(peer.id);
    expect((await fetch(`${base}${path}api/self`)).status).toBe(401);
    const ticket = issueTicket(dispatcher.privateKey, { peerId: peer.id, owner: 'user-1' });
    const login = await fetch(`${base}${path}login?ticket=${ticket}`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe(path);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect(await (await fetch(`${base}${path}api/self`, { headers: { cookie } })).json()).toMatchObject({
      id: peer.id,
    });
    const sent = await fetch(`${base}${path}api/send`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ peerId: 'nobody', text: 'x' }),
    });
    expect(sent.status).toBe(422);
    const abort = new AbortController();
    const events = await fetch(`${base}${path}api/events`, { headers: { cookie }, signal: abort.signal });
    const reader = (events.body as ReadableStream<Uint8Array>).getReader();
    const { value } = await reader.read();
    expect(Buffer.from(value as Uint8Array).toString()).toContain(': connected');
    abort.abort();
    expect(await (await fetch(`${base}/`)).json()).toEqual({ dispatcher: true });
  });

  it('answers 503 for a peer it does not route, and 502 when the peer is down', async () => {
    expect((await fetch(`${base}/p/${'a'.repeat(32)}/`)).status).toBe(503);
    const id = peer.id;
    await router.route(id, { host: '127.0.0.1', port: peer.webPort as number });
    await peer.stop();
    const down = await fetch(`${base}${router.entryFor(id)}api/self`);
    expect(down.status).toBe(502);
    expect(await down.json()).toEqual({ error: 'the peer is not answering; try again in a moment' });
    await router.unroute(id);
    expect((await fetch(`${base}${router.entryFor(id)}`)).status).toBe(503);
  });

  it("passes on the peer's 413 for an oversized chunked body, every time", async () => {
    await router.route(peer.id, { host: '127.0.0.1', port: peer.webPort as number });
    const path = router.entryFor(peer.id);
    const ticket = issueTicket(dispatcher.privateKey, { peerId: peer.id, owner: 'user-1' });
    const login = await fetch(`${base}${path}login?ticket=${ticket}`, { redirect: 'manual' });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const answer = await postChunked(`${base}${path}api/send`, cookie, 16 * 1024 * 1024);
      statuses.push(answer.status);
      if (answer.status === 413) expect(JSON.parse(answer.body)).toMatchObject({ statusCode: 413 });
    }
    expect(statuses).toEqual(Array(8).fill(413));
    // The peer is still fine, and so is the way to it.
    expect((await fetch(`${base}${path}api/self`, { headers: { cookie } })).status).toBe(200);
  });

  it('keeps the dispatcher’s own cookies from the peer, both ways', async () => {
    const guarded = Fastify({ forceCloseConnections: true });
    const guardedRouter = new EmbeddedRouter(guarded, { dispatcherCookies: ['p2pm_session'] });
    // A peer that would read the user's session, and set one of its own for the whole site.
    const nosy = createServer((request, response) => {
      response.setHeader('set-cookie', ['p2pm_session=planted; Path=/', 'mine=1; Path=/p/']);
      response.end(JSON.stringify({ cookie: request.headers.cookie ?? null }));
    });
    await new Promise<void>((resolve) => nosy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (nosy.address() as AddressInfo).port;
      const id = 'b'.repeat(32);
      await guardedRouter.route(id, { host: '127.0.0.1', port });
      await guarded.listen({ port: 0, host: '127.0.0.1' });
      const url = `http://127.0.0.1:${(guarded.server.address() as AddressInfo).port}${guardedRouter.entryFor(id)}`;
      const both = await fetch(url, { headers: { cookie: 'p2pm_session=secret; p2pm_owner=peer-token' } });
      expect(await both.json()).toEqual({ cookie: 'p2pm_owner=peer-token' });
      expect(both.headers.getSetCookie()).toEqual(['mine=1; Path=/p/']);
      const only = await fetch(url, { headers: { cookie: 'p2pm_session=secret' } });
      expect(await only.json()).toEqual({ cookie: null });
    } finally {
      await guarded.close();
      await new Promise((resolve) => nosy.close(resolve));
    }
  });
});

/**
 * A JSON POST of `bytes` in chunks (no Content-Length), as a script streaming a large body
 * would send it; resolves with the answer, or with status 0 if the connection broke first.
 */
function postChunked(url: string, cookie: string, bytes: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const request = httpRequest(url, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    });
    request.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', () => resolve({ status: 0, body: '' }));
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    const pump = () => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!request.write(chunk)) return void request.once('drain', pump);
      }
      request.end();
    };
    request.write('{"peerId":"x","text":"');
    pump();
  });
}
