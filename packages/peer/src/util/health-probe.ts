import { request } from 'node:http';

/**
 * Whether `url` answers 200 within `timeoutMs`: a container's HEALTHCHECK, run by the
 * engine in the container, where no curl or shell may exist.
 */
export function probeHealth(url: string, timeoutMs = 3_000): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = request(url, { timeout: timeoutMs }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    probe.on('timeout', () => probe.destroy());
    probe.on('error', () => resolve(false));
    probe.end();
  });
}

/** Where a process on the same host reaches a server that listens on `host`. */
export function loopbackFor(host: string): string {
  if (host === '0.0.0.0' || host === '' || host === 'localhost') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
