import { Agent, type IncomingMessage, request } from 'node:http';

/** A response as a page sees it before following a redirect. */
export interface Reply {
  status: number;
  location: string | null;
  contentType: string;
  body: string;
}

export interface ServerEvent {
  event: string;
  data: unknown;
}

const CSRF_INPUT = /name="_csrf" value="([^"]+)"/;
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * One user's browser, as far as the benchmark needs one: its own keep-alive connection (a
 * form is posted on the connection that loaded the page, as a browser does), a cookie jar
 * (every cookie sent everywhere on the site; the paths they are set for do not matter here),
 * redirects shown rather than followed, forms, and server-sent events. `close()` when done.
 */
export class Browser {
  readonly #base: string;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1 });
  readonly #cookies = new Map<string, string>();

  constructor(base: string) {
    this.#base = base;
  }

  cookie(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  /** GET, or POST of a url-encoded form. */
  async send(path: string, init: { form?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Reply> {
    const body = init.form ? new URLSearchParams(init.form).toString() : undefined;
    const response = await this.#request(path, body, {}, init.signal);
    let text = '';
    for await (const chunk of response.setEncoding('utf8')) text += chunk;
    return {
      status: response.statusCode ?? 0,
      location: response.headers.location ?? null,
      contentType: response.headers['content-type'] ?? '',
      body: text,
    };
  }

  /** Opens the front page (which starts a session) and returns the CSRF token of its forms. */
  async openFront(): Promise<string> {
    const page = await this.send('/');
    const token = CSRF_INPUT.exec(page.body)?.[1];
    if (page.status !== 200 || !token) throw new Error(`GET / answered ${page.status} without a form token`);
    return token;
  }

  /** Reads an event stream until one of `wanted` arrives, then leaves it. */
  async waitForEvent(path: string, wanted: readonly string[], signal?: AbortSignal): Promise<ServerEvent> {
    const response = await this.#request(path, undefined, { accept: 'text/event-stream' }, signal);
    try {
      if (response.statusCode !== 200) throw new Error(`GET ${path} answered ${response.statusCode}`);
      let buffer = '';
      for await (const chunk of response.setEncoding('utf8')) {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const event = parseEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (wanted.includes(event.event)) return event;
        }
      }
      throw new Error(`${path} ended before any of ${wanted.join(', ')}`);
    } finally {
      response.destroy();
    }
  }

  close(): void {
    this.#agent.destroy();
  }

  #request(
    path: string,
    body: string | undefined,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<IncomingMessage> {
    const cookies = [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    return new Promise((resolve, reject) => {
      const outgoing = request(
        new URL(path, this.#base),
        {
          method: body === undefined ? 'GET' : 'POST',
          agent: this.#agent,
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
          headers: {
            ...headers,
            ...(cookies ? { cookie: cookies } : {}),
            ...(body === undefined
              ? {}
              : { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) }),
          },
        },
        (response) => {
          for (const line of response.headers['set-cookie'] ?? []) {
            const [pair = ''] = line.split(';');
            const eq = pair.indexOf('=');
            if (eq > 0) this.#cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
          }
          resolve(response);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }
}

function parseEvent(block: string): ServerEvent {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
  }
  const text = data.join('\n');
  try {
    return { event, data: JSON.parse(text) };
  } catch {
    return { event, data: text };
  }
}
