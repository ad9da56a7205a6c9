import type { FastifyInstance } from 'fastify';
import type { DispatcherMetrics } from '../ops/metrics.js';

/** Liveness, readiness and Prometheus metrics, for orchestrators and monitoring. */
export function opsRoutes(app: FastifyInstance, init: { metrics: DispatcherMetrics; ready: () => boolean }): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) =>
    init.ready() ? { status: 'ready' } : reply.code(503).send({ status: 'starting' }),
  );
  app.get('/metrics', async (_request, reply) =>
    reply.type(init.metrics.registry.contentType).send(await init.metrics.registry.metrics()),
  );
}
