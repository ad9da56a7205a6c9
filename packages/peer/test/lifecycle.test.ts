import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../src/harness/peer-process.js';
import { Peer } from '../src/index.js';
import { TestResources } from './helpers/resources.js';

describe('peer lifecycle', () => {
  const resources = new TestResources();
  afterEach(() => resources.cleanup());
  const logger = pino({ level: 'silent' });

  async function newPeer(name: string, ports: { greetingPort?: number; securePort?: number } = {}) {
    const peer = new Peer({
      name,
      dataDir: join(await resources.dir(), name),
      listenHost: '127.0.0.1',
      logger,
      ...ports,
    });
    resources.onCleanup(() => peer.stop());
    return peer;
  }

  it('stops cleanly whether started or not, twice, and releases its ports', async () => {
    const ports = { greetingPort: await freePort(), securePort: await freePort() };
    const peer = await newPeer('once', ports);
    await peer.stop();
    await Promise.all([peer.start(), peer.start()]);
    await Promise.all([peer.stop(), peer.stop()]);
    expect(peer.isRunning).toBe(false);
    const again = await newPeer('again', ports);
    await again.start();
    expect([again.greetingPort, again.securePort]).toEqual([ports.greetingPort, ports.securePort]);
  });

  it('refuses work when stopped, with an error that says what to do', async () => {
    const peer = await newPeer('idle');
    expect(() => peer.peers()).toThrow(expect.objectContaining({ name: 'PeerStoppedError' }));
    await expect(peer.send('x'.repeat(32), 'hi')).rejects.toMatchObject({
      name: 'PeerStoppedError',
      message: expect.stringMatching(/start\(\) it first/),
    });
  });

  it('says clearly when a port is taken, and when nobody answers at an address', async () => {
    const first = await newPeer('first');
    await first.start();
    const clash = await newPeer('clash', { greetingPort: first.greetingPort });
    await expect(clash.start()).rejects.toMatchObject({
      name: 'PortInUseError',
      message: expect.stringMatching(/greeting port \d+ on 127.0.0.1 is in use/),
    });
    await expect(first.contact(`127.0.0.1:${await freePort()}`, { timeoutMs: 2_000 })).rejects.toMatchObject({
      name: 'PeerUnreachableError',
    });
  });

  it('refuses bad options before starting', () => {
    const make = (options: Partial<ConstructorParameters<typeof Peer>[0]>) => () =>
      new Peer({ name: 'ok', dataDir: '/tmp/unused', logger, ...options });
    expect(make({ name: ' ' })).toThrow(/needs a name/);
    expect(make({ name: 'n'.repeat(65) })).toThrow(/at most 64 characters/);
    expect(make({ staticPeers: ['nohost'] })).toThrow(/is not host:port/);
    expect(make({ maxMessageBytes: 0 })).toThrow(/positive whole number/);
  });

  it('refuses to send what is too large or to a peer it does not know', async () => {
    const peer = await newPeer('strict');
    const other = await newPeer('other');
    await Promise.all([peer.start(), other.start()]);
    await expect(peer.send(other.id, 'hi')).rejects.toMatchObject({ name: 'UnknownPeerError' });
    await peer.contact(`127.0.0.1:${other.greetingPort}`);
    await expect(peer.send(other.id, 'x'.repeat(peer.maxMessageBytes + 1))).rejects.toMatchObject({
      name: 'MessageTooLargeError',
    });
    expect(peer.outboxSize()).toBe(0);
  });
});
