import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { GreetingServiceService, type PeerIdentity } from '@p2p-messenger/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, PeerProcess } from '../src/harness/peer-process.js';
import type { MessageRecord, PeerSummary } from '../src/index.js';
import { messagingServiceDefinition } from '../src/transport/frame-codec.js';
import { RawPeer } from './helpers/raw-peer.js';
import { TestResources } from './helpers/resources.js';

describe('impostors', () => {
  const resources = new TestResources();
  afterEach(() => resources.cleanup());

  async function startPeer(name: string, ports: { greetingPort?: number; securePort?: number } = {}) {
    const dir = await resources.dir();
    return resources.track(await PeerProcess.start({ name, dataDir: join(dir, name), ...ports }));
  }

  async function rawPeer() {
    const raw = await RawPeer.create();
    resources.onCleanup(() => raw.close());
    return raw;
  }

  it('refuses a greeting whose key does not belong to the id it claims', async () => {
    const bob = await startPeer('bob');
    const victim = await rawPeer();
    const impostor = await rawPeer();
    const forged = { ...impostor.record(), id: victim.identity.id };
    await expect(impostor.greet(bob.greetingPort, forged)).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: expect.stringMatching(/does not belong to that id/),
    });
    const tampered = { ...impostor.record(), name: 'renamed after signing' };
    await expect(impostor.greet(bob.greetingPort, tampered)).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: expect.stringMatching(/bad signature/),
    });
    expect(await bob.request<PeerSummary[]>({ op: 'peers' })).toEqual([]);
  });

  it('refuses a secure session from a peer that replayed someone else’s greeting', async () => {
    const bob = await startPeer('bob');
    const victim = await rawPeer();
    const impostor = await rawPeer();
    // The victim's signed record is public; replaying it makes bob trust the victim's key only.
    const target = await impostor.greet(bob.greetingPort, victim.record());
    const stream = impostor.open(impostor.client(target, bob.securePort));
    stream.sendMessages([impostor.message(target, 'hi, I am the victim')]);
    const status = await stream.status;
    expect(status.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(status.details).toMatch(/greet first/);
    expect(await bob.request<MessageRecord[]>({ op: 'history', peerId: victim.identity.id, limit: 10 })).toEqual([]);
  });

  it('refuses a secure session from a peer that never greeted', async () => {
    const bob = await startPeer('bob');
    const stranger = await rawPeer();
    const target = await (await rawPeer()).greet(bob.greetingPort);
    const stream = stranger.open(stranger.client(target, bob.securePort));
    stream.sendMessages([stranger.message(target, 'hello?')]);
    expect((await stream.status).code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('does not talk to another peer that took over a known peer’s address', async () => {
    const ports = { greetingPort: await freePort(), securePort: await freePort() };
    const alice = await startPeer('alice');
    const bob = await startPeer('bob', ports);
    await alice.request({ op: 'contact', address: `127.0.0.1:${ports.greetingPort}` });
    await bob.stop();

    const mallory = await startPeer('mallory', ports);
    await alice.request({ op: 'send', peerId: bob.id, text: 'for bob only' });
    // Alice keeps redialing bob's address; her greetings name bob, so mallory refuses them.
    // Mallory is a peer in her own right: alice may talk to her, but only as mallory.
    await mallory.request({ op: 'contact', address: `127.0.0.1:${alice.greetingPort}` });
    await mallory.request({ op: 'send', peerId: alice.id, text: 'hello, I am mallory' });
    await alice.until(() => alice.received === 1, 'alice to hear from mallory');
    const sessionPeers = async () =>
      (await alice.request<{ peerId: string }[]>({ op: 'sessions' })).map((s) => s.peerId);
    expect(await sessionPeers()).toEqual([mallory.id]);
    expect(await alice.request({ op: 'outboxSize' })).toBe(1);
    const malloryHistory = await mallory.request<MessageRecord[]>({ op: 'history', peerId: alice.id, limit: 10 });
    expect(malloryHistory.map((m) => m.text)).toEqual(['hello, I am mallory']);
  });

  it('does not send to a server that replays the right greeting but cannot prove the key in TLS', async () => {
    const ports = { greetingPort: await freePort(), securePort: await freePort() };
    const alice = await startPeer('alice');
    const bob = await startPeer('bob', ports);
    await alice.request({ op: 'contact', address: `127.0.0.1:${ports.greetingPort}` });
    const bobRecord: PeerIdentity = await (await rawPeer()).greet(ports.greetingPort);
    await bob.stop();

    // Mallory answers greetings with bob's genuine record and serves TLS with her own key.
    const mallory = await rawPeer();
    let sessionsOpened = 0;
    let greetings = 0;
    const greeting = new grpc.Server();
    greeting.addService(GreetingServiceService, {
      greet: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => {
        greetings++;
        callback(null, { identity: bobRecord, knownPeers: [], observedAddress: '' });
      },
    });
    const secure = new grpc.Server();
    secure.addService(messagingServiceDefinition(), {
      session: (call: grpc.ServerDuplexStream<unknown, unknown>) => {
        sessionsOpened++;
        call.end();
      },
    });
    resources.onCleanup(() => {
      greeting.forceShutdown();
      secure.forceShutdown();
    });
    const bind = (server: grpc.Server, port: number, credentials: grpc.ServerCredentials) =>
      new Promise<void>((resolve, reject) =>
        server.bindAsync(`127.0.0.1:${port}`, credentials, (err) => (err ? reject(err) : resolve())),
      );
    await bind(greeting, ports.greetingPort, grpc.ServerCredentials.createInsecure());
    await bind(
      secure,
      ports.securePort,
      grpc.ServerCredentials.createSsl(null, [
        {
          private_key: Buffer.from(mallory.identity.privateKeyPem),
          cert_chain: Buffer.from(mallory.identity.certificatePem),
        },
      ]),
    );

    await alice.request({ op: 'send', peerId: bob.id, text: 'for bob only' });
    // A second greeting means the first dial went all the way to TLS and failed.
    await alice.until(() => greetings >= 2, 'alice to retry after a failed dial');
    expect(sessionsOpened).toBe(0);
    expect(await alice.request({ op: 'sessions' })).toEqual([]);
    expect(await alice.request({ op: 'outboxSize' })).toBe(1);
  });
});
