import type { MessageRecord } from '@p2p-messenger/peer';
import type { PeerProcess } from '@p2p-messenger/peer/harness';
import { expect } from 'vitest';
import { historyOf, until } from './lan-peers.js';

/**
 * Sends `count` numbered messages ("<prefix> 1"...), one after another, running `after[i]`
 * once message i is accepted (a cut, a restore); returns the sender's records, in order.
 */
export async function sendSequence(
  from: PeerProcess,
  to: PeerProcess,
  prefix: string,
  count: number,
  after: Record<number, () => Promise<void>> = {},
): Promise<MessageRecord[]> {
  const sent: MessageRecord[] = [];
  for (let i = 1; i <= count; i++) {
    sent.push(await from.request<MessageRecord>({ op: 'send', peerId: to.id, text: `${prefix} ${i}` }));
    await after[i]?.();
  }
  return sent;
}

/** How many messages of a sequence (by its prefix) `to` holds from `from` now. */
export async function countReceived(to: PeerProcess, from: PeerProcess, prefix: string): Promise<number> {
  return (await receivedFrom(to, from)).filter((m) => m.text.startsWith(`${prefix} `)).length;
}

/** The messages `to` holds from `from`, in its history's order. */
export async function receivedFrom(to: PeerProcess, from: PeerProcess): Promise<MessageRecord[]> {
  return (await historyOf(to, from)).filter((m) => m.senderId === from.id);
}

/**
 * Waits until the receiver holds every message sent, then checks that it holds each exactly
 * once, in the order sent (ids and texts), and that the sender sees every one delivered.
 */
export async function expectDeliveredOnceInOrder(
  from: PeerProcess,
  to: PeerProcess,
  sent: readonly MessageRecord[],
  timeoutMs = 30_000,
): Promise<void> {
  const wanted = new Set(sent.map((m) => m.id));
  const received = await until(
    `all ${sent.length} messages at ${to.id}`,
    () => receivedFrom(to, from),
    (list) => sent.every((m) => list.some((r) => r.id === m.id)),
    timeoutMs,
    200,
  );
  const ofSequence = received.filter((m) => wanted.has(m.id));
  expect(ofSequence.map((m) => m.id)).toEqual(sent.map((m) => m.id));
  expect(ofSequence.map((m) => m.text)).toEqual(sent.map((m) => m.text));
  expect(new Set(received.map((m) => m.id)).size).toBe(received.length);
  await until(
    `all ${sent.length} messages delivered, as ${from.id} sees them`,
    () => historyOf(from, to),
    (history) => sent.every((m) => ['delivered', 'read'].includes(history.find((h) => h.id === m.id)?.state ?? '')),
    timeoutMs,
    200,
  );
}
