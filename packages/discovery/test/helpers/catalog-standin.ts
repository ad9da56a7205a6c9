import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { CatalogEntry } from '../../src/index.js';

export type { CatalogEntry };

export interface CatalogStandInOptions {
  /** 0 (the default) picks a free port; give a stopped stand-in's port to bring "the dispatcher" back there. */
  readonly port?: number;
  /** When set, every request must carry `authorization: Bearer <token>`. */
  readonly token?: string;
  /** The index of the first state (a restarted dispatcher starts low again). Default 1. */
  readonly index?: number;
  /** What is listed at that index. Default: nothing. */
  readonly entries?: readonly unknown[];
}

/** One well-formed GET /peers as it came in (one with a malformed index or wait gets a 400, not counted). */
export interface CatalogRequest {
  readonly index: number | null;
  readonly waitMs: number | null;
  readonly authorization: string | null;
}

/**
 * What every request gets instead of a faithful answer: an error or garbage, no answer at all,
 * or the catalog at once even when the query asked to wait (a server that does not block).
 */
export type Misbehaviour = { status: number; body: string } | 'hang' | 'no-blocking';

const MAX_WAIT_MS = 60_000;

/**
 * A stand-in for the dispatcher's catalog endpoint, as the peers use it:
 * `GET /peers[?index=N&wait=MS]` with `authorization: Bearer <token>`, answered with
 * `{"index", "peers"}` and `x-catalog-index`. A query whose index is the current one is held
 * until the catalog changes or `wait` ran out (at most 60 s; 60 s when not given); any other
 * index (0, none, an old one, one from before a restart) is answered at once. 401 with
 * `{"error"}` for a missing or wrong token. Entries are served as given, so tests can list
 * malformed ones.
 */
export class CatalogStandIn {
  readonly port: number;
  readonly url: string;
  readonly requests: CatalogRequest[] = [];
  readonly #server: Server;
  readonly #token: string | undefined;
  readonly #waiters = new Set<() => void>();
  #entries: unknown[] = [];
  #index: number;
  #misbehaviour: Misbehaviour | null = null;
  #stopped: Promise<void> | undefined;

  private constructor(server: Server, options: CatalogStandInOptions) {
    this.#server = server;
    this.#token = options.token;
    this.#index = options.index ?? 1;
    this.#entries = [...(options.entries ?? [])];
    this.port = (server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
  }

  static async start(options: CatalogStandInOptions = {}): Promise<CatalogStandIn> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const standIn = new CatalogStandIn(server, options);
    server.on('request', (req, res) => void standIn.#handle(req, res));
    return standIn;
  }

  get index(): number {
    return this.#index;
  }

  /** Blocking queries held now. */
  get pending(): number {
    return this.#waiters.size;
  }

  entries(): unknown[] {
    return [...this.#entries];
  }

  /** Replaces every entry (malformed ones too): the catalog changes, and held queries are answered. */
  list(entries: readonly unknown[]): void {
    this.#entries = [...entries];
    this.#index++;
    for (const wake of [...this.#waiters]) wake();
  }

  add(entry: CatalogEntry): void {
    this.list([...this.#entries.filter((e) => idOf(e) !== entry.id), entry]);
  }

  remove(id: string): void {
    this.list(this.#entries.filter((e) => idOf(e) !== id));
  }

  /** From now on every request gets this instead of the catalog (held ones too, when they end); null heals. */
  misbehave(misbehaviour: Misbehaviour | null): void {
    this.#misbehaviour = misbehaviour;
  }

  /** An outage: stops listening and cuts every connection, held queries included. Safe twice. */
  stop(): Promise<void> {
    this.#stopped ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
      for (const wake of [...this.#waiters]) wake();
    });
    return this.#stopped;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://catalog');
    if (url.pathname !== '/peers') return send(res, 404, { error: 'not found' });
    if (req.method !== 'GET') return send(res, 405, { error: 'only GET' });
    const index = parseParam(url.searchParams.get('index'));
    const waitMs = parseParam(url.searchParams.get('wait'));
    const authorization = req.headers.authorization ?? null;
    if (index === undefined || waitMs === undefined) return send(res, 400, { error: 'index and wait are numbers' });
    this.requests.push({ index, waitMs, authorization });
    if (this.#token !== undefined && authorization !== `Bearer ${this.#token}`) {
      return send(res, 401, { error: 'missing or wrong token' });
    }
    if (index !== null && index > 0 && index === this.#index && this.#misbehaviour !== 'no-blocking') {
      await this.#changeOrTimeout(Math.min(waitMs ?? MAX_WAIT_MS, MAX_WAIT_MS), res);
    }
    const misbehaviour = this.#misbehaviour;
    if (misbehaviour === 'hang' || res.destroyed) return;
    if (typeof misbehaviour === 'object' && misbehaviour !== null) {
      res.writeHead(misbehaviour.status, { 'content-type': 'application/json' }).end(misbehaviour.body);
      return;
    }
    send(res, 200, { index: this.#index, peers: this.#entries }, { 'x-catalog-index': String(this.#index) });
  }

  /** Until the catalog changes, `waitMs` passed, the client left or the stand-in stopped. */
  #changeOrTimeout(waitMs: number, res: ServerResponse): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        res.off('close', done);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      res.once('close', done);
      this.#waiters.add(done);
    });
  }
}

function idOf(entry: unknown): unknown {
  return typeof entry === 'object' && entry !== null ? (entry as { id?: unknown }).id : undefined;
}

/** null when absent, undefined when not a whole number. */
function parseParam(value: string | null): number | null | undefined {
  if (value === null) return null;
  return /^\d+$/.test(value) ? Number(value) : undefined;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}
