import { once } from 'node:events';
import { join } from 'node:path';
import { PROTOCOL_VERSION } from '@p2p-messenger/proto';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CatalogStandIn } from '../../discovery/test/helpers/catalog-standin.js';
import { type MessageRecord, Peer } from '../src/index.js';
import { TestResources } from './helpers/resources.js';

describe('finding peers in a dispatcher catalog', () => {
  const resources = new TestResources();
  afterEach(() => resources.cleanup());

  it('peers the catalog lists find each other through it, chat, and see a removed one leave', async () => {
    const catalog = await CatalogStandIn.start({ token: 'peer-token' });
    resources.onCleanup(() => catalog.stop());
    const dir = await resources.dir();
    const start = async (name: string) => {
      const peer = new Peer({
        name,
        dataDir: join(dir, name),
        listenHost: '127.0.0.1',
        discovery: { catalog: { url: catalog.url, token: 'peer-token' } },
        logger: pino({ level: 'silent' }),
      });
      resources.onCleanup(() => peer.stop());
      await peer.start();
      // What the dispatcher does for the peers it runs: list them.
      catalog.add({
        id: peer.id,
        name,
        addresses: ['127.0.0.1'],
        greetingPort: peer.greetingPort,
        securePort: peer.securePort,
        protocolVersion: PROTOCOL_VERSION,
      });
      return peer;
    };
    const ada = await start('ada');
    const bob = await start('bob');
    const seenBy = (peer: Peer, other: Peer) => peer.peers().find((p) => p.id === other.id);
    for (const [peer, other] of [
      [ada, bob],
      [bob, ada],
    ] as const) {
      await expect
        .poll(() => seenBy(peer, other), { timeout: 5_000 })
        .toMatchObject({ status: 'online', sources: ['catalog'] });
    }
    const received = once(bob, 'message') as Promise<[MessageRecord]>;
    await ada.send(bob.id, 'found you in the dispatcher catalog');
    const [message] = await received;
    expect(message).toMatchObject({ senderId: ada.id, text: 'found you in the dispatcher catalog' });
    catalog.remove(bob.id);
    await expect.poll(() => seenBy(ada, bob)?.sources, { timeout: 3_000 }).toEqual([]);
  });
});
