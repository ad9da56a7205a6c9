import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { Route } from './routing-table.js';

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'];

/**
 * One entry point: a request goes to the first route (by priority) whose hosts hold the
 * request's host, to its servers in turn, streamed both ways (server-sent events as they
 * come). As Traefik answers: 404 "404 page not found" when no router matches, 502 "Bad
 * Gateway" when the server cannot be reached; the Host header passes unchanged, and the
 * X-Forwarded-* headers are added.
 */
export class EntryPoint {
  readonly #name: string;
  readonly #server: Server;
  #routes: readonly Route[] = [];
  #turn = 0;

  constructor(
    name: string,
    private readonly log: (line: Record<string, unknown>) => void,
  ) {
    this.#name = name;
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve) => this.#server.listen(port, '0.0.0.0', resolve));
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  /** The routes of this entry point from now on. */
  use(routes: readonly Route[]): void {
    this.#routes = routes.filter((route) => route.entryPoints.includes(this.#name));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const route = this.#routes.find((candidate) => candidate.hosts.includes(host));
    const began = Date.now();
    res.once('finish', () =>
      this.log({
        entryPoint: this.#name,
        host,
        method: req.method,
        path: req.url,
        status: res.statusCode,
        router: route?.router ?? null,
        ms: Date.now() - began,
      }),
    );
    if (!route || route.servers.length === 0) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
      res.end('404 page not found\n');
      return;
    }
    const server = new URL(route.servers[this.#turn++ % route.servers.length] as string);
    this.#forward(req, res, server);
  }

  #forward(req: IncomingMessage, res: ServerResponse, server: URL): void {
    const headers = { ...req.headers };
    for (const name of HOP_BY_HOP) delete headers[name];
    const client = req.socket.remoteAddress ?? '';
    const prior = req.headers['x-forwarded-for'];
    Object.assign(headers, {
      'x-forwarded-for': prior ? `${prior}, ${client}` : client,
      'x-forwarded-host': req.headers.host ?? '',
      'x-forwarded-port': String(req.socket.localPort ?? ''),
      'x-forwarded-proto': 'http',
      'x-forwarded-server': 'traefik-standin',
      'x-real-ip': client,
    });
    const upstream = request({
      host: server.hostname,
      port: server.port,
      method: req.method,
      path: req.url,
      headers,
    });
    upstream.on('response', (answer) => {
      const back = { ...answer.headers };
      for (const name of HOP_BY_HOP) delete back[name];
      res.writeHead(answer.statusCode ?? 502, back);
      res.flushHeaders();
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Bad Gateway');
    });
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  }
}
