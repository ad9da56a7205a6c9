import { createHash, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { CatalogEntry } from '@p2p-messenger/discovery';
import { PROTOCOL_VERSION } from '@p2p-messenger/proto';
import type { FastifyInstance } from 'fastify';
import type { BridgedPeers } from '../bridge/bridged-peers.js';
import type { Catalog, CatalogPeer } from '../catalog/catalog.js';

const MAX_WAIT_MS = 60_000;
/** Changes this close together make one step of the index: a burst of log-ins wakes each peer once. */
const BATCH_MS = 100;

/** The catalog at one index: read once, however many peers ask. */
interface Snapshot {
  index: number;
  /** The users' peers that are up: what a user's peer sees. */
  listed: CatalogEntry[];
  claimed: Set<string>;
}

/**
 * The catalog as the dispatcher's peers see it, with Consul-style blocking queries:
 * `?index=N&wait=MS` is answered when the catalog changed after N, or when the wait is over.
 * A user's peer sees the other users' peers that are up; a peer nobody owns yet (`?peer=` is
 * its id) sees nobody, so the pool's spare peers greet no one. The index starts afresh with
 * each dispatcher process; a peer that sees it go back starts over.
 */
export function catalogApi(
  app: FastifyInstance,
  init: { catalog: Catalog; token: string; bridged?: BridgedPeers | undefined },
): void {
  const { catalog, bridged } = init;
  const expected = createHash('sha256').update(`Bearer ${init.token}`).digest();
  const steps = new EventEmitter();
  // Every blocking query waits on a step: lift the default cap of 10 listeners.
  steps.setMaxListeners(0);
  let index = 1;
  let snapshot: Promise<Snapshot> | null = null;
  let batch: NodeJS.Timeout | null = null;
  const onChanged = () => {
    batch ??= setTimeout(() => {
      batch = null;
      index++;
      snapshot = null;
      steps.emit('step');
    }, BATCH_MS);
  };
  catalog.on('changed', onChanged);
  bridged?.on('changed', onChanged);
  app.addHook('onClose', async () => {
    catalog.off('changed', onChanged);
    bridged?.off('changed', onChanged);
    if (batch) clearTimeout(batch);
  });
  const current = (): Promise<Snapshot> => {
    // The index as the read starts: a step while it is under way must not relabel what it read.
    const at = index;
    snapshot ??= catalog.list().then((peers) => take(at, peers, bridged?.entries() ?? []));
    return snapshot;
  };

  app.get('/catalog/v1/peers', async (request, reply) => {
    const given = createHash('sha256')
      .update(request.headers.authorization ?? '')
      .digest();
    if (!timingSafeEqual(given, expected)) return reply.code(401).send({ error: 'wrong or missing catalog token' });
    const query = request.query as { index?: string; wait?: string; peer?: string };
    if (Number(query.index) === index) {
      const asked = Number(query.wait);
      const waitMs = Math.min(MAX_WAIT_MS, Number.isFinite(asked) && asked >= 0 ? asked : MAX_WAIT_MS);
      await nextStep(steps, waitMs, reply.raw);
    }
    const view = await current();
    const mine = typeof query.peer === 'string' && view.claimed.has(query.peer);
    const peers = mine || query.peer === undefined ? view.listed : [];
    return reply.header('x-catalog-index', String(view.index)).send({ index: view.index, peers });
  });
}

/** What users' peers see: each other when up, and the peers of other networks through the bridge. */
function take(index: number, peers: readonly CatalogPeer[], remote: readonly CatalogEntry[]): Snapshot {
  const up = peers.filter((p) => p.state === 'claimed' && p.healthy);
  const ours = new Set(peers.map((p) => p.id));
  return {
    index,
    claimed: new Set(peers.filter((p) => p.state === 'claimed').map((p) => p.id)),
    listed: [
      ...up.map((p) => ({
        id: p.id,
        name: p.name,
        addresses: [p.address],
        greetingPort: p.greetingPort,
        securePort: p.securePort,
        protocolVersion: PROTOCOL_VERSION,
      })),
      ...remote.filter((entry) => !ours.has(entry.id)),
    ],
  };
}

/**
 * Until the catalog's next step, the wait's end, or the peer going away (the response's
 * 'close': a request's own comes too early). Plain listeners: fifty peers waking at once
 * made AbortSignals the bigger cost.
 */
function nextStep(steps: EventEmitter, waitMs: number, response: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      steps.off('step', done);
      response.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, waitMs);
    steps.once('step', done);
    response.once('close', done);
  });
}
