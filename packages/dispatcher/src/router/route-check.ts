import { setTimeout as sleep } from 'node:timers/promises';
import { httpGet } from '@p2p-messenger/discovery';

/** What one request through Traefik to a peer's host got. */
export type RouteAnswer =
  | { readonly kind: 'peer' }
  | { readonly kind: 'not-routed' }
  | { readonly kind: 'other'; readonly status: number; readonly body: string }
  | { readonly kind: 'unreachable'; readonly error: string };

/** Traefik's answer to a host no router matches (Go's http.NotFound). */
const TRAEFIK_NOT_FOUND = '404 page not found';

/**
 * Asks Traefik, with the peer's Host header, for the peer's health check under its own path
 * (`/p/<peerId>/healthz`): only the web server of that very peer serves that path, so a 200 is
 * the peer itself answering, not another peer nor Traefik.
 */
export async function askThroughTraefik(
  traefikUrl: string,
  host: string,
  peerId: string,
  timeoutMs: number,
): Promise<RouteAnswer> {
  try {
    const url = new URL(`/p/${peerId}/healthz`, traefikUrl);
    const { status, body } = await httpGet(url, { host }, AbortSignal.timeout(timeoutMs));
    if (status === 200) return { kind: 'peer' };
    if (status === 404 && body.startsWith(TRAEFIK_NOT_FOUND)) return { kind: 'not-routed' };
    return { kind: 'other', status, body: body.slice(0, 200) };
  } catch (err) {
    return { kind: 'unreachable', error: (err as Error).message };
  }
}

export function describeAnswer(answer: RouteAnswer): string {
  switch (answer.kind) {
    case 'peer':
      return 'the peer answered';
    case 'not-routed':
      return `Traefik answered 404 (${TRAEFIK_NOT_FOUND}): no router for the host`;
    case 'other':
      return `HTTP ${answer.status} ${JSON.stringify(answer.body)}`;
    case 'unreachable':
      return `no answer (${answer.error})`;
  }
}

/** Asks until `done` holds for an answer or the deadline passes; the last answer either way. */
export async function askUntil(
  ask: () => Promise<RouteAnswer>,
  done: (answer: RouteAnswer) => boolean,
  deadlineMs: number,
  intervalMs: number,
): Promise<{ answer: RouteAnswer; ok: boolean; tries: number }> {
  const until = Date.now() + deadlineMs;
  for (let tries = 1; ; tries++) {
    const answer = await ask();
    if (done(answer)) return { answer, ok: true, tries };
    if (Date.now() + intervalMs > until) return { answer, ok: false, tries };
    await sleep(intervalMs);
  }
}
