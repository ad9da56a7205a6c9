import type { FastifyInstance } from 'fastify';
import type { DispatcherMetrics } from '../ops/metrics.js';
import { adminOnly } from './admin-auth.js';

/**
 * Liveness and readiness, for orchestrators; and Prometheus metrics behind the admin's
 * log-in, unless they have a listener of their own (`metricsElsewhere`), which keeps them
 * off the public port altogether.
 */
export function opsRoutes(
  app: FastifyInstance,
  init: {
    metrics: DispatcherMetrics;
    ready: () => boolean;
    /** Why the dispatcher cannot do its job now though it is up (e.g. peers cannot be started), or null. */
    trouble?: () => string | null;
    admin: { user: string; password: string };
    metricsElsewhere: boolean;
  },
): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (!init.ready()) return reply.code(503).send({ status: 'starting' });
    const trouble = init.trouble?.() ?? null;
    return trouble ? reply.code(503).send({ status: 'failing', error: trouble }) : { status: 'ready' };
  });
  if (init.metricsElsewhere) return;
  app.get('/metrics', { onRequest: adminOnly(init.admin) }, async (_request, reply) =>
    reply.type(init.metrics.registry.contentType).send(await init.metrics.registry.metrics()),
  );
}
