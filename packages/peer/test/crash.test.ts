import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, PeerProcess } from '../src/harness/peer-process.js';
import type { MessageRecord } from '../src/index.js';
import { TestResources } from './helpers/resources.js';

const TOTAL = 10_000;

/** Every message m0..m(n-1) exactly once, in send order, and nothing else. */
function expectExactlyOnceInOrder(history: MessageRecord[], count: number): void {
  const texts = history.map((m) => m.text);
  expect(new Set(history.map((m) => m.id)).size).toBe(history.length);
  expect(texts).toEqual(Array.from({ length: count }, (_, i) => `m${i}`));
}

describe('kill -9 in the middle of a 10,000-message run', () => {
  const resources = new TestResources();
  afterEach(() => resources.cleanup());

  async function setup() {
    const dir = await resources.dir();
    const options = async (name: string) => ({
      name,
      dataDir: join(dir, name),
      greetingPort: await freePort(),
      securePort: await freePort(),
      reconnectMaxDelayMs: 1_000,
    });
    const senderOptions = await options('sender');
    const receiverOptions = await options('receiver');
    const sender = resources.track(await PeerProcess.start(senderOptions));
    const receiver = resources.track(await PeerProcess.start(receiverOptions));
    await sender.request({ op: 'contact', address: `127.0.0.1:${receiverOptions.greetingPort}` });
    return { sender, receiver, senderOptions, receiverOptions };
  }

  const historyOf = (peer: PeerProcess, other: string) =>
    peer.request<MessageRecord[]>({ op: 'history', peerId: other, limit: TOTAL * 2 });

  it('loses and repeats nothing when the receiver dies', async () => {
    const { sender, receiver, receiverOptions } = await setup();
    const sending = sender.request(
      { op: 'sendMany', peerId: receiver.id, count: TOTAL, prefix: 'm', chunk: 50 },
      120_000,
    );
    await receiver.until(() => receiver.received >= 2_000, 'the receiver to get 2,000 messages');
    await receiver.kill();
    const receivedBeforeKill = receiver.received;
    expect(receivedBeforeKill).toBeLessThan(TOTAL);

    const restarted = resources.track(await PeerProcess.start(receiverOptions));
    await sending;
    await sender.until(
      async () => (await sender.request<number>({ op: 'outboxSize' })) === 0,
      'the outbox to drain',
      60_000,
    );
    expectExactlyOnceInOrder(await historyOf(restarted, sender.id), TOTAL);
    const sent = await historyOf(sender, receiver.id);
    expect(sent.every((m) => m.state === 'delivered')).toBe(true);
  });

  it('sends after restart everything the sender accepted before it died', async () => {
    const { sender, receiver, senderOptions } = await setup();
    void sender
      .request({ op: 'sendMany', peerId: receiver.id, count: TOTAL, prefix: 'm', chunk: 20, pauseMs: 2 }, 120_000)
      .catch(() => {});
    await receiver.until(() => receiver.received >= 1_000, 'the receiver to get 1,000 messages');
    await sender.kill();
    const acceptedBeforeKill = sender.accepted;
    expect(acceptedBeforeKill).toBeLessThan(TOTAL);

    const restarted = resources.track(await PeerProcess.start(senderOptions));
    await restarted.until(
      async () => (await restarted.request<number>({ op: 'outboxSize' })) === 0,
      'the outbox to drain',
      60_000,
    );
    const received = await historyOf(receiver, restarted.id);
    // Everything reported accepted arrived; a few more may have been stored just before the kill.
    expect(received.length).toBeGreaterThanOrEqual(acceptedBeforeKill);
    expectExactlyOnceInOrder(received, received.length);
    const own = await historyOf(restarted, receiver.id);
    expect(own.map((m) => m.id)).toEqual(received.map((m) => m.id));
    expect(own.every((m) => m.state === 'delivered')).toBe(true);
  });
});
