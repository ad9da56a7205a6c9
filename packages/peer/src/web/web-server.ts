import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import type { ChatPeer } from './chat-peer.js';
import { streamEvents } from './event-stream.js';
import { OWNER_SESSION_MS, OwnerAccess } from './owner-access.js';
import { drainRefusedBodies } from './refused-bodies.js';
import { TicketError } from './ticket.js';
import type { WebOptions } from './web-options.js';

export type { WebOptions } from './web-options.js';

const COOKIE = 'p2pm_owner';
const UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));
const assets = new Map<string, Promise<string>>();

type UiFile = 'index.html' | 'app.js' | 'app.css';
/** The chat page's files: path under the peer, file, content type. */
const UI_FILES: readonly [string, UiFile, string][] = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/app.js', 'app.js', 'text/javascript; charset=utf-8'],
  ['/app.css', 'app.css', 'text/css; charset=utf-8'],
];

/** The chat page's files, read once. */
function asset(name: UiFile): Promise<string> {
  let content = assets.get(name);
  if (!content) {
    content = readFile(join(UI_DIR, name), 'utf8');
    assets.set(name, content);
  }
  return content;
}

/** Text from other peers never runs: no inline script, nothing from elsewhere. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/**
 * The peer's web server: the owner's way in (tickets and login links) and the JSON API the
 * chat UI uses. Nothing but the login answers without the owner's cookie. It works behind a
 * path prefix (`/p/<peerId>/`, as the dispatcher proxies it) and at the root alike.
 */
export class PeerWebServer {
  readonly access: OwnerAccess;
  readonly #app: FastifyInstance;
  readonly #peer: ChatPeer;
  readonly #dispatcherUrl: string | undefined;
  #port = 0;

  constructor(peer: ChatPeer, options: WebOptions, log: Logger) {
    this.#peer = peer;
    this.access = new OwnerAccess(peer.id, options.dispatcherKeyPem);
    this.#dispatcherUrl = options.dispatcherUrl;
    this.#app = Fastify({
      loggerInstance: log.child({ component: 'web' }) as FastifyBaseLogger,
      bodyLimit: 2 * 1024 * 1024,
      // Health checks every few seconds would fill the log; refusals are logged where they happen.
      logController: new LogController({ disableRequestLogging: true }),
      // Event streams never go idle: a stopping peer ends them rather than waiting.
      forceCloseConnections: true,
    });
    void this.#app.register(cookie);
    drainRefusedBodies(this.#app);
    this.#app.addHook('onSend', async (_request, reply) => {
      reply.headers(SECURITY_HEADERS);
    });
    this.#routes('');
    this.#routes(`/p/${peer.id}`);
  }

  get port(): number {
    return this.#port;
  }

  async listen(options: WebOptions): Promise<number> {
    await this.#app.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
    const address = this.#app.server.address();
    this.#port = typeof address === 'object' && address ? address.port : options.port;
    return this.#port;
  }

  async close(): Promise<void> {
    await this.#app.close();
  }

  #routes(base: string): void {
    const app = this.#app;
    const peer = this.#peer;
    app.get(`${base}/login`, async (request, reply) => {
      const query = request.query as { ticket?: string; token?: string };
      let token: string | null = null;
      if (typeof query.ticket === 'string') {
        try {
          const redeemed = this.access.redeemTicket(query.ticket);
          token = redeemed.token;
          // The dispatcher's user: the peer shows their name from now on.
          const name = redeemed.claims.name;
          if (name && name !== peer.self().name) {
            await peer
              .rename(name)
              .catch((err: unknown) => request.log.warn({ err }, 'could not take the owner’s name'));
          }
        } catch (err) {
          const problem = err instanceof TicketError ? err.problem : 'no-dispatcher';
          request.log.warn({ problem }, 'ticket refused');
          return reply.code(403).send({ error: 'this link does not open this peer (it may have been used already)' });
        }
      } else if (typeof query.token === 'string') {
        token = this.access.redeemLoginLink(query.token);
        if (!token) return reply.code(403).send({ error: 'this login link is unknown, used or expired' });
      } else {
        return reply.code(400).send({ error: 'a login needs a ticket or a login link' });
      }
      reply.setCookie(COOKIE, token, {
        path: `${base}/`,
        httpOnly: true,
        sameSite: 'strict',
        secure: request.protocol === 'https',
        maxAge: OWNER_SESSION_MS / 1000,
      });
      return reply.redirect(`${base}/`, 303);
    });
    // Logging out ends the session here and clears the cookie; behind a dispatcher, back to its page.
    app.get(`${base}/logout`, async (request, reply) => {
      this.access.revoke(request.cookies[COOKIE]);
      reply.clearCookie(COOKIE, { path: `${base}/` });
      if (this.#dispatcherUrl) return reply.redirect(this.#dispatcherUrl, 303);
      if (base) return reply.redirect('/', 303);
      return reply.type('text/plain; charset=utf-8').send('Logged out. Use your peer’s login link to come back.\n');
    });
    // For the orchestrator's health checks: says nothing but that the server answers.
    app.get(`${base}/healthz`, async () => ({ ok: true }));
    // Every route but the login and the health check: before anything is parsed or served, the owner's cookie.
    const guarded = {
      onRequest: async (request: FastifyRequest, reply: FastifyReply) => {
        if (this.access.ownerOf(request.cookies[COOKIE])) return;
        return reply.code(401).send({ error: 'log in through your dispatcher, or with the link your peer printed' });
      },
    };
    for (const [path, file, type] of UI_FILES) {
      app.get(`${base}${path}`, guarded, async (_request, reply) => reply.type(type).send(await asset(file)));
    }
    app.get(`${base}/api/self`, guarded, async () => peer.self());
    app.get(`${base}/api/peers`, guarded, async () => peer.peers());
    app.get(`${base}/api/history/:peerId`, guarded, async (request) =>
      peer.history((request.params as { peerId: string }).peerId, 200),
    );
    app.get(`${base}/api/qr`, guarded, async (_request, reply) => {
      const me = peer.self();
      // Loaded on first use: most of a peer's life nobody looks at its QR code.
      const { default: QRCode } = await import('qrcode');
      const svg = await QRCode.toString(`p2pm:${me.id}#${me.fingerprint.replaceAll(' ', '')}`, { type: 'svg' });
      return reply.type('image/svg+xml').send(svg);
    });
    app.post(`${base}/api/read/:peerId`, guarded, async (request) => ({
      read: peer.markRead((request.params as { peerId: string }).peerId),
    }));
    app.get(`${base}/api/events`, guarded, async (_request, reply) => {
      streamEvents(peer, reply);
      return reply;
    });
    app.post(`${base}/api/send`, guarded, async (request, reply) => {
      const body = request.body as { peerId?: unknown; text?: unknown } | undefined;
      if (typeof body?.peerId !== 'string' || typeof body.text !== 'string' || body.text.length === 0) {
        return reply.code(400).send({ error: 'send needs {"peerId": "...", "text": "..."}' });
      }
      try {
        return await peer.send(body.peerId, body.text);
      } catch (err) {
        return reply.code(422).send({ error: (err as Error).message });
      }
    });
  }
}
