import { setTimeout as sleep } from 'node:timers/promises';
import { type Logger, pino } from 'pino';
import { backoffDelay } from '../backoff.js';
import { DirectoryBase } from '../directory.js';
import { CatalogTokenError, CatalogUnavailableError, DiscoveryConfigError } from '../errors.js';
import { httpGet } from '../http-get.js';
import { type CatalogAnswer, parseCatalogAnswer } from './catalog-answer.js';

export interface CatalogHttpOptions {
  /** Where the dispatcher serves its catalog (http or https); the peers are at `<url>/peers`. */
  url: string;
  /** Sent as `authorization: Bearer <token>`; never logged. */
  token?: string;
  /** How long one blocking query may wait for a change (the dispatcher caps it at 60 s). */
  waitMs?: number;
  retry?: { minDelayMs?: number; maxDelayMs?: number };
  /** This peer's own id: its own entry is not listed. */
  selfId?: string;
  log?: Logger;
}

/** How much longer than its wait a query may take before it counts as lost (a server that hangs). */
const timeoutFor = (waitMs: number) => Math.round(waitMs * 1.25) + 1_000;

/**
 * Peers in the catalog a dispatcher serves over HTTP, watched with blocking queries (the
 * Consul protocol: ask with the last index seen, the server answers when the catalog moved
 * past it or the wait ran out). While the catalog cannot be had (down, a 5xx, a malformed
 * answer, a refused token) the last known entries stay, as a Consul watch's do, and queries
 * are retried with backoff.
 */
export class CatalogHttpDirectory extends DirectoryBase {
  readonly source = 'catalog' as const;
  readonly #options: CatalogHttpOptions;
  readonly #peersUrl: URL;
  /** The URL as logs show it: without credentials or query. */
  readonly #shownUrl: string;
  readonly #waitMs: number;
  readonly #log: Logger;
  #abort: AbortController | null = null;
  #watching: Promise<void> = Promise.resolve();
  /** The entries left out of the last answer, so that the same ones are not logged at every answer. */
  #dropped = '';

  constructor(options: CatalogHttpOptions) {
    super();
    this.#peersUrl = peersUrlOf(options.url);
    this.#shownUrl = `${this.#peersUrl.origin}${this.#peersUrl.pathname}`;
    if (options.token !== undefined && !/^[\x21-\x7e]+$/.test(options.token)) {
      throw new DiscoveryConfigError('a catalog token must be printable ASCII without spaces');
    }
    this.#options = options;
    this.#waitMs = options.waitMs ?? 30_000;
    this.#log = (options.log ?? pino({ level: 'silent' })).child({ directory: 'catalog' });
  }

  /** Starts watching; a catalog that cannot be had now is retried, never fatal. */
  async start(): Promise<void> {
    if (this.#abort) return;
    this.markStarted();
    const abort = new AbortController();
    this.#abort = abort;
    this.#watching = this.#watch(abort.signal);
  }

  async stop(): Promise<void> {
    const abort = this.#abort;
    if (!abort) return;
    this.#abort = null;
    this.markStopped();
    abort.abort();
    await this.#watching;
  }

  async #watch(signal: AbortSignal): Promise<void> {
    let index = 0;
    let failures = 0;
    /** What went wrong last: a spell of the same trouble is logged once, and its end. */
    let trouble: string | null = null;
    while (!signal.aborted) {
      const askedAt = Date.now();
      let problem: Error | null = null;
      try {
        const answer = await this.#query(index, signal);
        if (signal.aborted) return;
        this.#apply(answer);
        // Unchanged at once though asked to wait: against a server that does not block, a busy loop.
        if (index > 0 && answer.index === index && Date.now() - askedAt < this.#waitMs / 2) {
          problem = new CatalogUnavailableError('the catalog answers blocking queries at once; slowing down');
        }
        index = this.#nextIndex(index, answer.index);
      } catch (err) {
        if (signal.aborted) return;
        problem = err instanceof Error ? err : new Error(String(err));
      }
      if (!problem) {
        if (trouble) this.#log.info({ url: this.#shownUrl }, 'the catalog answers again');
        trouble = null;
        failures = 0;
        continue;
      }
      if (trouble !== problem.message) this.#logTrouble(problem);
      trouble = problem.message;
      await sleep(backoffDelay(failures++, this.#retry()), undefined, { signal }).catch(() => {});
    }
  }

  /** Consul's rule: an index that goes back (the catalog restarted) starts the watch over from 0. */
  #nextIndex(asked: number, answered: number): number {
    if (answered >= asked) return answered;
    this.#log.info({ index: answered, was: asked }, 'the catalog index went back (a restart?); starting over');
    return 0;
  }

  /** One query: at once for index 0, else blocking until the catalog moves past `index`. */
  async #query(index: number, stop: AbortSignal): Promise<CatalogAnswer> {
    const url = new URL(this.#peersUrl);
    // Who asks: a catalog may show each peer its own view (e.g. nobody to one nobody owns yet).
    if (this.#options.selfId) url.searchParams.set('peer', this.#options.selfId);
    if (index > 0) {
      url.searchParams.set('index', String(index));
      url.searchParams.set('wait', String(this.#waitMs));
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#options.token !== undefined) headers.authorization = `Bearer ${this.#options.token}`;
    const timeoutMs = timeoutFor(this.#waitMs);
    const request = new AbortController();
    const cancel = () => request.abort();
    const timer = setTimeout(() => {
      request.abort(new CatalogUnavailableError(`the catalog did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    stop.addEventListener('abort', cancel, { once: true });
    try {
      const response = await httpGet(url, headers, request.signal);
      if (response.status === 401) {
        throw new CatalogTokenError(
          this.#options.token === undefined
            ? 'the catalog needs a token, and none is configured'
            : 'the catalog refused the token: it is wrong (or no longer valid)',
        );
      }
      if (response.status !== 200) throw new CatalogUnavailableError(`the catalog answered HTTP ${response.status}`);
      return parseCatalogAnswer(response.body, Date.now());
    } catch (err) {
      if (err instanceof CatalogTokenError || err instanceof CatalogUnavailableError) throw err;
      if (request.signal.reason instanceof CatalogUnavailableError) throw request.signal.reason;
      const cause = (err as { cause?: { message?: string } }).cause?.message;
      throw new CatalogUnavailableError(`cannot reach the catalog: ${cause ?? (err as Error).message}`);
    } finally {
      clearTimeout(timer);
      stop.removeEventListener('abort', cancel);
    }
  }

  #apply(answer: CatalogAnswer): void {
    const dropped = JSON.stringify(answer.dropped);
    if (answer.dropped.length > 0 && dropped !== this.#dropped) {
      this.#log.warn({ dropped: answer.dropped }, 'left out catalog entries that are not usable peers');
    }
    this.#dropped = dropped;
    const listed = answer.peers.filter((peer) => peer.id !== this.#options.selfId);
    const present = new Set(listed.map((peer) => peer.id));
    for (const peer of listed) this.put(peer);
    for (const peer of this.peers()) if (!present.has(peer.id)) this.remove(peer.id, 'removed');
  }

  #logTrouble(err: Error): void {
    const url = this.#shownUrl;
    if (err instanceof CatalogTokenError) this.#log.error({ url, err: err.message }, `${err.message}; retrying`);
    else this.#log.warn({ url, err: err.message }, 'cannot watch the catalog; keeping the last known peers, retrying');
  }

  #retry() {
    return this.#options.retry ?? { minDelayMs: 500, maxDelayMs: 30_000 };
  }
}

function peersUrlOf(base: string): URL {
  const url = URL.canParse(base) ? new URL(base) : null;
  if (!url || !/^https?:$/.test(url.protocol) || !url.hostname) {
    throw new DiscoveryConfigError(
      `not a catalog URL: "${base}" (expected http(s)://host:port, e.g. http://10.0.0.2:7600)`,
    );
  }
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/peers`;
  return url;
}
