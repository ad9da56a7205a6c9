import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
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

  it('greets a listed peer again later when it did not answer at first, though the catalog stays the same', async () => {
    const catalog = await CatalogStandIn.start({ token: 'peer-token' });
    resources.onCleanup(() => catalog.stop());
    const dir = await resources.dir();
    const peerIn = (name: string, discovery: ConstructorParameters<typeof Peer>[0]['discovery']) => {
      const peer = new Peer({
        name,
        dataDir: join(dir, name),
        listenHost: '127.0.0.1',
        discovery,
        logger: pino({ level: 'silent' }),
      });
      resources.onCleanup(() => peer.stop());
      return peer;
    };
    // Bob finds nobody himself, so the only way Ada can know him is to reach him.
    const bob = peerIn('bob', {});
    await bob.start();
    // Read now: the gate may still be asked after Bob has stopped, at cleanup.
    const bobGreetingPort = bob.greetingPort;
    // Bob's greeting port behind a gate: connections are cut until it opens (a peer still busy starting).
    const gate = { open: false, tries: 0 };
    const sockets = new Set<Socket>();
    const gateway = createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      gate.tries++;
      if (!gate.open) return socket.destroy();
      const upstream = connect(bobGreetingPort, '127.0.0.1');
      sockets.add(upstream);
      upstream.once('close', () => sockets.delete(upstream));
      socket.pipe(upstream).pipe(socket);
      socket.once('error', () => upstream.destroy());
      upstream.once('error', () => socket.destroy());
    });
    gateway.listen(0, '127.0.0.1');
    await once(gateway, 'listening');
    resources.onCleanup(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => gateway.close(resolve));
    });
    const gatewayPort = (gateway.address() as { port: number }).port;
    catalog.add({
      id: bob.id,
      name: 'bob',
      addresses: ['127.0.0.1'],
      greetingPort: gatewayPort,
      securePort: bob.securePort,
      protocolVersion: PROTOCOL_VERSION,
    });
    const ada = peerIn('ada', { catalog: { url: catalog.url, token: 'peer-token' } });
    await ada.start();
    await expect.poll(() => gate.tries, { timeout: 5_000 }).toBeGreaterThan(0);
    expect(ada.peers().find((p) => p.id === bob.id)).toBeUndefined();

    gate.open = true;
    await expect
      .poll(() => ada.peers().find((p) => p.id === bob.id), { timeout: 10_000 })
      .toMatchObject({ sources: ['catalog'] });
  });
});
