import { request } from 'node:http';

/** The Docker Engine API over its unix socket, with node:http (the stand-in's image has no node_modules). */
export class DockerEngine {
  readonly #socketPath: string;

  /** `endpoint`: unix:///var/run/docker.sock, as in providers.swarm.endpoint. */
  constructor(endpoint: string) {
    this.#socketPath = endpoint.replace(/^unix:\/\//, '');
  }

  get<T>(path: string, query: Record<string, unknown> = {}): Promise<T> {
    const search = new URLSearchParams(
      Object.entries(query).map(([key, value]): [string, string] => [
        key,
        typeof value === 'string' ? value : JSON.stringify(value),
      ]),
    ).toString();
    return new Promise((resolve, reject) => {
      const req = request(
        { socketPath: this.#socketPath, path: search ? `${path}?${search}` : path, method: 'GET', timeout: 10_000 },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            body += chunk;
          });
          res.on('end', () => {
            if (res.statusCode !== 200) reject(new Error(`GET ${path}: HTTP ${res.statusCode} ${body.trim()}`));
            else resolve(JSON.parse(body) as T);
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer in 10 s`)));
      req.on('error', reject);
      req.end();
    });
  }
}
