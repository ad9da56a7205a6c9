import { request } from 'node:http';

export interface HostAnswer {
  status: number;
  body: string;
  type: string;
}

/**
 * A GET to `base` (e.g. a proxy's published port) with the Host header of a made-up name, as
 * a browser resolving that name to `base` would send it. Over node:http: fetch sets Host itself.
 */
export function getWithHost(
  base: string,
  host: string,
  path = '/',
  headers: Record<string, string> = {},
): Promise<HostAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { headers: { ...headers, host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] ?? '' }));
    });
    req.on('error', reject);
    req.end();
  });
}
