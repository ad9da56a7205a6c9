import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Readiness } from './readiness.js';

export interface OpsServerInit {
  host: string;
  port: number;
  registry: Registry;
  readiness: () => Readiness;
  log: Logger;
}

/**
 * The bridge's ops endpoints for orchestrators and monitoring: /healthz (the process
 * answers), /readyz (200 when ready, 503 with the reason) and Prometheus /metrics.
 */
export class OpsServer {
  readonly #init: OpsServerInit;
  readonly #log: Logger;
  #server: Server | null = null;

  constructor(init: OpsServerInit) {
    this.#init = init;
    this.#log = init.log.child({ component: 'ops' });
  }

  /** The port bound (after start). */
  get port(): number {
    return (this.#server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    if (this.#server) return;
    const server = createServer((request, response) => {
      this.#handle(request, response).catch((err: Error) => {
        this.#log.warn({ err, url: request.url }, 'ops request failed');
        if (!response.headersSent) send(response, 500, 'text/plain', 'internal error\n');
      });
    });
    server.listen(this.#init.port, this.#init.host);
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err))]);
    this.#server = server;
    this.#log.info({ host: this.#init.host, port: this.port }, 'ops server listening');
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return send(response, 405, 'text/plain', 'only GET\n');
    }
    if (path === '/healthz') return json(response, 200, { status: 'ok' });
    if (path === '/readyz') {
      const readiness = this.#init.readiness();
      return readiness.ready
        ? json(response, 200, { status: 'ready' })
        : json(response, 503, { status: 'not ready', reason: readiness.reason });
    }
    if (path === '/metrics') {
      const { registry } = this.#init;
      return send(response, 200, registry.contentType, await registry.metrics());
    }
    send(response, 404, 'text/plain', 'not found: /healthz, /readyz, /metrics\n');
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  send(response, status, 'application/json', `${JSON.stringify(body)}\n`);
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  response.end(body);
}
