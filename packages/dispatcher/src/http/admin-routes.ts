import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccountStore } from '../accounts/account-store.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Orchestrator } from '../orchestrator/orchestrator.js';
import type { WarmPool } from '../pool/warm-pool.js';
import { adminOnly } from './admin-auth.js';
import { page } from './html.js';

export interface AdminParts {
  user: string;
  password: string;
  catalog: Catalog;
  orchestrator: Orchestrator;
  pool: WarmPool;
  accounts: AccountStore;
}

/**
 * The operator's page and JSON API, behind HTTP Basic auth with the configured credentials:
 * peers with state, owner, health and age; the pool's target; release (the owner gets a new
 * peer next time; the old one stops, its data kept) or remove (stopped and its data deleted).
 */
export function adminRoutes(app: FastifyInstance, parts: AdminParts): void {
  const guarded = { onRequest: adminOnly(parts) };

  app.get('/admin', guarded, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(
      page(
        'Admin',
        `<h2>Pool</h2><p data-testid="pool"></p>
<form id="target"><label>Target <input type="number" min="0" max="1000" name="target" data-testid="pool-target"></label><button type="submit">Set</button></form>
<h2>Peers</h2><table data-testid="admin-peers"><thead><tr><th>Peer</th><th>State</th><th>Owner</th><th>Health</th><th>Age</th><th></th></tr></thead><tbody></tbody></table>
<p id="problem" role="alert"></p>`,
        ['/assets/admin.js'],
      ),
    ),
  );

  app.get('/admin/api/peers', guarded, async () => {
    const instances = new Map(parts.orchestrator.list().map((i) => [i.peerId, i]));
    const now = Date.now();
    const peers = (await parts.catalog.list()).map((peer) => ({
      id: peer.id,
      name: peer.name,
      state: peer.state,
      owner: peer.owner ? (parts.accounts.get(peer.owner)?.username ?? peer.owner) : null,
      healthy: peer.healthy,
      ageS: Math.round((now - peer.registeredAtMs) / 1000),
      instance: instances.get(peer.id)?.state ?? 'missing',
      restarts: instances.get(peer.id)?.restarts ?? 0,
    }));
    return { pool: await parts.pool.stats(), peers };
  });

  app.put('/admin/api/pool', guarded, async (request, reply) => {
    const target = (request.body as { target?: unknown } | undefined)?.target;
    if (!Number.isSafeInteger(target) || (target as number) < 0 || (target as number) > 1_000) {
      return reply.code(400).send({ error: 'send {"target": N} with N from 0 to 1000' });
    }
    parts.pool.target = target as number;
    return parts.pool.stats();
  });

  const retire = (keepData: boolean) => async (request: FastifyRequest, reply: FastifyReply) => {
    const { id } = request.params as { id: string };
    const retired = await parts.pool.retire(id, { keepData });
    if (!retired) return reply.code(404).send({ error: 'no such peer' });
    request.log.info({ peerId: id, keepData }, keepData ? 'peer released' : 'peer removed');
    return { ok: true };
  };
  app.post('/admin/api/peers/:id/release', guarded, retire(true));
  app.delete('/admin/api/peers/:id', guarded, retire(false));
}
