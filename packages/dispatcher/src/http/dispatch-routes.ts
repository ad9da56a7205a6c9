import { openEventStream } from '@p2p-messenger/peer';
import type { FastifyInstance } from 'fastify';
import type { DispatchService } from '../dispatch/dispatch-service.js';
import { PeersUnavailableError, TooBusyError } from '../errors.js';
import type { DispatcherMetrics } from '../ops/metrics.js';
import { handOver } from './hand-over.js';
import { PEERS_UNAVAILABLE_TEXT, startingPage } from './pages.js';
import { currentUser } from './sessions.js';

/** Into the user's peer: `/go`, and the progress page (with live progress) while one starts. */
export function dispatchRoutes(
  app: FastifyInstance,
  parts: { dispatch: DispatchService; metrics: DispatcherMetrics },
): void {
  const { dispatch } = parts;

  app.get('/go', async (request, reply) => {
    const user = currentUser(request);
    if (!user) return reply.redirect('/?next=/go', 303);
    return handOver(request, reply, user, parts);
  });

  app.get('/starting', async (request, reply) => {
    if (!currentUser(request)) return reply.redirect('/?next=/go', 303);
    return reply.type('text/html; charset=utf-8').send(startingPage());
  });

  // Server-sent events: `progress` while the user waits, then `ready` (go to /go), `busy`, or `unavailable`.
  app.get('/starting/events', async (request, reply) => {
    const user = currentUser(request);
    if (!user) return reply.code(401).send({ error: 'log in first' });
    const { raw, send } = openEventStream(reply);
    const left = new AbortController();
    raw.once('close', () => left.abort());
    try {
      if (!(await dispatch.peerNow(user.uid))) {
        await dispatch.enqueue(user.uid);
        await dispatch.wait(user.uid, left.signal, (progress) => send('progress', progress));
        parts.metrics.claims.inc({ outcome: 'cold' });
      }
      send('ready', { url: '/go' });
    } catch (err) {
      if (err instanceof TooBusyError) send('busy', { retryAfterS: err.retryAfterS });
      else if (err instanceof PeersUnavailableError) {
        send('unavailable', { retryAfterS: err.retryAfterS, text: PEERS_UNAVAILABLE_TEXT });
      } else if (!left.signal.aborted) request.log.error({ err }, 'waiting for a peer failed');
    } finally {
      raw.end();
    }
  });
}
