import { createHash, timingSafeEqual } from 'node:crypto';
import { on } from 'node:events';
import { PROTOCOL_VERSION } from '@p2p-messenger/proto';
import type { FastifyInstance } from 'fastify';
import type { Catalog } from '../catalog/catalog.js';

const MAX_WAIT_MS = 60_000;

/**
 * The catalog as the dispatcher's peers see it: the claimed, healthy peers (vacant ones are
 * nobody yet), with Consul-style blocking queries: `?index=N&wait=MS` is answered when the
 * catalog changed after N, or when the wait is over. The index starts afresh with each
 * dispatcher process; a peer that sees it go back starts over.
 */
export function catalogApi(app: FastifyInstance, init: { catalog: Catalog; token: string }): void {
  const { catalog } = init;
  const expected = createHash('sha256').update(`Bearer ${init.token}`).digest();
  let index = 1;
  catalog.on('changed', () => {
    index++;
  });
  // Blocking queries wait on 'changed' together: lift the default cap of 10 listeners.
  catalog.setMaxListeners(0);

  app.get('/catalog/v1/peers', async (request, reply) => {
    const given = createHash('sha256')
      .update(request.headers.authorization ?? '')
      .digest();
    if (!timingSafeEqual(given, expected)) return reply.code(401).send({ error: 'wrong or missing catalog token' });
    const query = request.query as { index?: string; wait?: string };
    const since = Number(query.index);
    if (Number.isSafeInteger(since) && since === index) {
      const waitMs = Math.min(MAX_WAIT_MS, Number.isFinite(Number(query.wait)) ? Number(query.wait) : MAX_WAIT_MS);
      const done = AbortSignal.any([AbortSignal.timeout(Math.max(0, waitMs)), abortOnClose(reply.raw)]);
      try {
        for await (const _ of on(catalog, 'changed', { signal: done })) break;
      } catch {
        // The wait is over, or the peer went away.
      }
    }
    const peers = (await catalog.list())
      .filter((p) => p.state === 'claimed' && p.healthy)
      .map((p) => ({
        id: p.id,
        name: p.name,
        addresses: [p.address],
        greetingPort: p.greetingPort,
        securePort: p.securePort,
        protocolVersion: PROTOCOL_VERSION,
      }));
    return reply.header('x-catalog-index', String(index)).send({ index, peers });
  });
}

/** Aborts when the response is done or the connection is lost (a request's own 'close' comes too early). */
function abortOnClose(raw: NodeJS.EventEmitter): AbortSignal {
  const controller = new AbortController();
  raw.once('close', () => controller.abort());
  return controller.signal;
}
