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
 * One user's browser, as far as the benchmark needs one: a cookie jar (every cookie sent
 * everywhere on the site; the paths they are set for do not matter here), redirects shown
 * rather than followed, forms, and server-sent events.
 */
export class Browser {
  readonly #base: string;
  readonly #cookies = new Map<string, string>();

  constructor(base: string) {
    this.#base = base;
  }

  cookie(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  /** GET, or POST of a url-encoded form. */
  async send(path: string, init: { form?: Record<string, string> } = {}): Promise<Reply> {
    const response = await this.#fetch(path, init.form ? { method: 'POST', body: new URLSearchParams(init.form) } : {});
    return {
      status: response.status,
      location: response.headers.get('location'),
      contentType: response.headers.get('content-type') ?? '',
      body: await response.text(),
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
    const response = await this.#fetch(path, { headers: { accept: 'text/event-stream' } }, signal);
    const reader = response.body?.getReader();
    if (response.status !== 200 || !reader) throw new Error(`GET ${path} answered ${response.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) throw new Error(`${path} ended before any of ${wanted.join(', ')}`);
        buffer += decoder.decode(value, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const event = parseEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (wanted.includes(event.event)) return event;
        }
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  }

  async #fetch(path: string, init: RequestInit, signal?: AbortSignal): Promise<Response> {
    const cookies = [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    const response = await fetch(new URL(path, this.#base), {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), ...(cookies ? { cookie: cookies } : {}) },
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) this.#cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    return response;
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
