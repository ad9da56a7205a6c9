import { request as httpRequest } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isNavigation } from '../http/html.js';
import type { Router, RouteTarget } from './router.js';

const PEER_PATH = /^\/p\/([a-z2-7]{16,64})(\/|$)/;
/** Hop-by-hop headers are the proxy's own business, not forwarded either way. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

function withoutHopByHop(headers: Record<string, string | string[] | undefined>) {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())));
}

/** The Cookie header without the dispatcher's own cookies: a peer never sees the user's session. */
function withoutCookies(header: string | undefined, names: ReadonlySet<string>): string | undefined {
  if (!header || names.size === 0) return header;
  const kept = header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair && !names.has(pair.slice(0, pair.indexOf('=') >>> 0).trim()));
  return kept.length > 0 ? kept.join('; ') : undefined;
}

/** Set-Cookie lines of a peer, less any that would set one of the dispatcher's cookies. */
function ownCookiesOnly(lines: string[] | undefined, names: ReadonlySet<string>): string[] | undefined {
  return lines?.filter((line) => !names.has(line.slice(0, line.indexOf('=') >>> 0).trim()));
}

/**
 * A peer that is not reachable here now (starting again after a restart, stopped, or never
 * here). A person opening one of its pages goes the way in (`/go`), which takes them to
 * their own peer, through the progress page while it starts; anything else (the page's API
 * calls, its event stream) is told to try again shortly.
 */
function notRouted(request: FastifyRequest, reply: FastifyReply): void {
  if (isNavigation(request)) {
    void reply.redirect('/go', 303);
    return;
  }
  void reply
    .code(503)
    .header('retry-after', '2')
    .send({ error: 'this peer is not reachable right now (it may be starting); try again in a moment' });
}

/**
 * The embedded dispatcher's router: it proxies `/p/<peerId>/...` to that peer's web server,
 * streaming both ways (server-sent events included), before Fastify parses anything, so the
 * peer sees the request exactly as the browser sent it.
 */
export class EmbeddedRouter implements Router {
  readonly #routes = new Map<string, RouteTarget>();

  /** `dispatcherCookies`: cookies of the dispatcher's own, neither sent to peers nor set by them. */
  constructor(app: FastifyInstance, init: { dispatcherCookies?: readonly string[] } = {}) {
    const reserved = new Set(init.dispatcherCookies ?? []);
    app.addHook('onRequest', (request, reply, done) => {
      const match = PEER_PATH.exec(request.raw.url ?? '');
      const target = match ? this.#routes.get(match[1] as string) : undefined;
      if (!match) return done();
      if (!target) {
        notRouted(request, reply);
        return;
      }
      reply.hijack();
      const upstream = httpRequest({
        host: target.host,
        port: target.port,
        method: request.raw.method,
        path: request.raw.url,
        headers: {
          ...withoutHopByHop(request.raw.headers),
          cookie: withoutCookies(request.raw.headers.cookie, reserved) ?? [],
          host: `${target.host}:${target.port}`,
        },
      });
      let answered = false;
      upstream.on('response', (response) => {
        const headers = withoutHopByHop(response.headers);
        headers['set-cookie'] = ownCookiesOnly(response.headers['set-cookie'], reserved) ?? [];
        reply.raw.writeHead(response.statusCode ?? 502, headers);
        response.once('end', () => {
          answered = true;
        });
        response.pipe(reply.raw);
      });
      upstream.on('error', () => {
        // After the whole answer (a refusal while the body still came): nothing is missing.
        if (answered) return;
        // Midway through the answer: the client must see it broken off, not a made-up end.
        if (reply.raw.headersSent) return void reply.raw.destroy();
        reply.raw.writeHead(502, { 'content-type': 'application/json' });
        reply.raw.end(JSON.stringify({ error: 'the peer is not answering; try again in a moment' }));
      });
      // The browser left (or a stream ended): so does the upstream request.
      reply.raw.on('close', () => upstream.destroy());
      request.raw.pipe(upstream);
    });
  }

  async route(peerId: string, target: RouteTarget): Promise<void> {
    this.#routes.set(peerId, target);
  }

  async unroute(peerId: string): Promise<void> {
    this.#routes.delete(peerId);
  }

  entryFor(peerId: string): string {
    return `/p/${peerId}/`;
  }
}
