import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageStore } from '../src/store/message-store.js';
import { MessageState } from '../src/store/records.js';
import { UlidGenerator } from '../src/util/ulid.js';
import { TestResources } from './helpers/resources.js';

describe('MessageStore', () => {
  const resources = new TestResources();
  afterEach(() => resources.cleanup());
  const ids = new UlidGenerator();

  const outgoing = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      id: ids.next(),
      senderId: 'me',
      peerId: 'you',
      conversationId: 'me:you',
      lamport: i + 1,
      sentAtMs: 1,
      text: `m${i}`,
    }));

  async function open() {
    const store = new MessageStore(join(await resources.dir(), 'messages.db'));
    resources.onCleanup(() => store.close());
    return store;
  }

  it('stores an incoming message once, however often it arrives', async () => {
    const store = await open();
    const message = { ...outgoing(1)[0]!, senderId: 'you', receivedAtMs: 2 };
    expect(store.insertIncoming([message])).toEqual(new Set([message.id]));
    expect(store.insertIncoming([message, message])).toEqual(new Set());
    expect(store.history('me:you', 10).map((m) => m.text)).toEqual(['m0']);
  });

  it('moves states forward only, and keeps the outbox to what is undelivered', async () => {
    const store = await open();
    const messages = outgoing(3);
    store.insertOutgoing(messages);
    const [a, b, c] = messages.map((m) => m.id) as [string, string, string];
    expect(store.advanceOutgoing('me', [a], MessageState.Read)).toEqual([a]);
    expect(store.advanceOutgoing('me', [a], MessageState.Delivered)).toEqual([]);
    expect(store.getMessage('me', a)?.state).toBe('read');
    expect(store.markFailed('me', b, 'refused')).toBe(true);
    expect(store.outbox('you', '', 10).map((m) => m.id)).toEqual([c]);
    expect(store.outboxSize()).toBe(1);
  });

  it('pages the outbox by count and by bytes, but always returns at least one message', async () => {
    const store = await open();
    store.insertOutgoing(outgoing(5));
    expect(store.outbox('you', '', 2)).toHaveLength(2);
    expect(store.outbox('you', '', 10, 1)).toHaveLength(1);
    const [first] = store.outbox('you', '', 1);
    expect(store.outbox('you', first!.id, 10)).toHaveLength(4);
  });

  it('orders a conversation by Lamport time, then sender, then id', async () => {
    const store = await open();
    store.insertOutgoing([{ ...outgoing(1)[0]!, lamport: 2, text: 'mine at 2' }]);
    store.insertIncoming([
      { ...outgoing(1)[0]!, senderId: 'you', lamport: 2, text: 'yours at 2', receivedAtMs: 1 },
      { ...outgoing(1)[0]!, senderId: 'you', lamport: 1, text: 'yours at 1', receivedAtMs: 1 },
    ]);
    expect(store.history('me:you', 10).map((m) => m.text)).toEqual(['yours at 1', 'mine at 2', 'yours at 2']);
    expect(store.history('me:you', 2).map((m) => m.text)).toEqual(['mine at 2', 'yours at 2']);
    expect(store.maxLamport()).toBe(2);
  });
});
