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
    admin: { user: string; password: string };
    metricsElsewhere: boolean;
  },
): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) =>
    init.ready() ? { status: 'ready' } : reply.code(503).send({ status: 'starting' }),
  );
  if (init.metricsElsewhere) return;
  app.get('/metrics', { onRequest: adminOnly(init.admin) }, async (_request, reply) =>
    reply.type(init.metrics.registry.contentType).send(await init.metrics.registry.metrics()),
  );
}
