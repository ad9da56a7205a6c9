import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DispatchService } from '../dispatch/dispatch-service.js';
import { PeersUnavailableError, TooBusyError } from '../errors.js';
import type { DispatcherMetrics } from '../ops/metrics.js';
import { messagePage, PEERS_UNAVAILABLE_TEXT } from './pages.js';
import type { SessionUser } from './sessions.js';

/**
 * Sends a logged-in user into their peer: with a ticket when it is ready, else to the
 * progress page while one starts for them, else (too many starting) 429 with Retry-After.
 */
export async function handOver(
  request: FastifyRequest,
  reply: FastifyReply,
  user: SessionUser,
  parts: { dispatch: DispatchService; metrics: DispatcherMetrics },
): Promise<FastifyReply> {
  const { dispatch, metrics } = parts;
  const peer = await dispatch.peerNow(user.uid);
  if (peer) {
    if (request.session.get('peerId') !== peer.id) request.session.set('peerId', peer.id);
    metrics.claims.inc({ outcome: 'warm' });
    return reply.redirect(dispatch.ticketUrl(peer, user), 303);
  }
  try {
    await dispatch.enqueue(user.uid);
  } catch (err) {
    if (err instanceof PeersUnavailableError) return unavailable(reply, err);
    if (!(err instanceof TooBusyError)) throw err;
    return tooBusy(reply, err);
  }
  return reply.redirect('/starting', 303);
}

function tooBusy(reply: FastifyReply, err: TooBusyError): FastifyReply {
  return reply
    .code(429)
    .header('retry-after', String(err.retryAfterS))
    .type('text/html; charset=utf-8')
    .send(
      messagePage('Busy', `Many peers are starting right now. Try again in ${err.retryAfterS} seconds.`, {
        href: '/go',
        label: 'Try again',
      }),
    );
}

/** The user is told plainly (the operator's log and /readyz say why), not kept on a progress page. */
function unavailable(reply: FastifyReply, err: PeersUnavailableError): FastifyReply {
  return reply
    .code(503)
    .header('retry-after', String(err.retryAfterS))
    .type('text/html; charset=utf-8')
    .send(messagePage('Not available', PEERS_UNAVAILABLE_TEXT, { href: '/go', label: 'Try again' }));
}
