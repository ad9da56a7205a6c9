/** A cookie-keeping HTTP client for tests: what a browser would send, without the browser. */
export class WebClient {
  /** name -> { value, path } (one per name is enough for these tests). */
  readonly cookies = new Map<string, { value: string; path: string }>();

  constructor(readonly base: string) {}

  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.#send(path, { method: 'GET', headers });
  }

  /** A form post, as a browser sends one. */
  async post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    return this.#send(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
  }

  /** The CSRF token of the form on a page (and the session cookie that goes with it). */
  async csrf(path = '/'): Promise<string> {
    const html = await (await this.get(path)).text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    if (!token) throw new Error(`no CSRF token on ${path}`);
    return token;
  }

  /** Follows redirects on this site, returning the last response and the paths visited. */
  async follow(response: Response, limit = 10): Promise<{ response: Response; visited: string[] }> {
    const visited: string[] = [];
    let current = response;
    while (current.status >= 300 && current.status < 400 && visited.length < limit) {
      const location = current.headers.get('location') ?? '';
      const url = new URL(location, this.base);
      if (url.origin !== new URL(this.base).origin) throw new Error(`redirected off the site: ${location}`);
      visited.push(url.pathname + url.search);
      await current.body?.cancel();
      current = await this.get(url.pathname + url.search);
    }
    return { response: current, visited };
  }

  cookieHeader(path: string): string {
    return [...this.cookies]
      .filter(([, cookie]) => path.startsWith(cookie.path))
      .map(([name, cookie]) => `${name}=${cookie.value}`)
      .join('; ');
  }

  async #send(path: string, init: RequestInit & { headers: Record<string, string> }): Promise<Response> {
    const cookie = this.cookieHeader(path);
    const response = await fetch(new URL(path, this.base), {
      ...init,
      redirect: 'manual',
      headers: { ...(cookie ? { cookie } : {}), ...init.headers },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      const pathAttribute = attributes.find((a) => a.toLowerCase().startsWith('path='));
      const expired = attributes.some((a) => /^max-age=0$/i.test(a) || /^expires=thu, 01 jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, { value, path: pathAttribute ? pathAttribute.slice(5) : '/' });
    }
    return response;
  }
}
